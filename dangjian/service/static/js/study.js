/* Training and writing: the quiz (scored, with sources) and the draft built from quoted passages. */
"use strict";
let lastQuiz = null;
let quizSeed = 0;

async function startQuiz(ev) {
  ev.preventDefault();
  const out = $("quiz");
  out.replaceChildren(el("p", {class: "muted"}, "正在出题……"));
  try {
    lastQuiz = {topic: $("quiz-topic").value.trim(), n: Number($("quiz-n").value) || 10, seed: quizSeed++};
    const questions = await postJSON("/quiz", lastQuiz);
    const form = el("form", {id: "quiz-sheet"});
    for (const q of questions) {
      const item = el("fieldset", {class: "question", id: "q-" + q.number},
                      el("legend", {}, q.number + ". " + q.question));
      if (q.options.length) {
        for (const option of q.options) {
          item.append(el("label", {class: "option"}, el("input", {type: "radio", name: "q" + q.number, value: option}), option));
        }
      } else {
        item.append(el("input", {type: "text", name: "q" + q.number, autocomplete: "off", "aria-label": "第 " + q.number + " 题的答案"}));
      }
      form.append(item);
    }
    form.append(el("button", {type: "submit"}, "交卷"));
    form.addEventListener("submit", (e) => { e.preventDefault(); score(form, questions); });
    out.replaceChildren(form);
    if (questions.length < lastQuiz.n) {
      out.prepend(el("div", {class: "notice"}, "知识库里关于这个主题的内容只够出 " + questions.length + " 道题（不重复、题目之间不互相透露答案）。"));
    }
  } catch (e) {
    out.replaceChildren(el("div", {class: "error"}, e.message));
  }
}

async function score(form, questions) {
  let right = 0;
  const given = questions.map((q) => { const f = form.elements["q" + q.number]; return (f && f.value || "").trim(); });
  let verdicts;
  try {  // compared on the server: punctuation, width, traditional/simplified and quotes folded
    verdicts = (await postJSON("/quiz/check", questions.map((q, i) => ({answer: q.answer, given: given[i]})))).map((v) => v.correct);
  } catch (e) {
    verdicts = questions.map((q, i) => given[i] === q.answer);
  }
  for (const [i, q] of questions.entries()) {
    const ok = verdicts[i];
    right += ok;
    const s = q.source;
    $("q-" + q.number).append(el("div", {class: ok ? "verdict right" : "verdict wrong"},
      (ok ? "✓ 正确" : "✗ 答案：" + q.answer) + "。依据：“" + q.evidence + "” ",
      el("a", {href: docHref(s.doc_id, s.start, s.end)}, s.citation)));
  }
  form.querySelector("button").remove();
  form.prepend(el("div", {class: "answer", id: "quiz-score"}, "得分：" + right + " / " + questions.length));
}


async function downloadSheet() {
  const request = lastQuiz || {topic: $("quiz-topic").value.trim(), n: Number($("quiz-n").value) || 10, seed: 0};
  try { await download("/quiz/sheet", request, "试卷.docx"); }
  catch (e) { $("quiz").prepend(el("div", {class: "error"}, e.message)); }
}

let draftState = null;

async function makeDraft(ev) {
  ev.preventDefault();
  const out = $("draft");
  out.replaceChildren(el("p", {class: "muted"}, "正在摘编素材……"));
  const template = $("draft-template").value;
  const body = {topic: $("draft-topic").value.trim()};
  if (template) body.template = template;
  else body.outline = $("draft-outline").value.split("\n").map((x) => x.trim()).filter(Boolean);
  if ($("draft-collection").value) body.collections = [$("draft-collection").value];
  const year = Number($("draft-year").value);
  if (year) body.year = year;
  try {
    const result = await postJSON("/draft", body);
    const refs = new Map(result.references.map((r) => [r.marker, r]));
    draftState = {
      title: result.title,
      sections: result.sections.map((s) => ({
        heading: s.heading, note: s.note,
        paragraphs: s.paragraphs.map((p) => ({text: p.text, reference: refs.get(p.marker)})),
        spare: s.spare.map((x) => ({text: x.text, reference: x.reference})),
      })),
    };
    renderDraft();
  } catch (e) {
    out.replaceChildren(el("div", {class: "error"}, e.message));
  }
}

function draftExport() {
  return {title: draftState.title, references: [], sections: draftState.sections.map((s) => ({
    heading: s.heading, note: s.note, paragraphs: s.paragraphs.map((p) => ({text: p.text, reference: p.reference}))}))};
}

function renderDraft() {
  const out = $("draft");
  const box = el("div", {id: "draft-preview"});
  box.append(el("h2", {}, draftState.title));
  const refs = [];
  draftState.sections.forEach((s, si) => {
    const sec = el("div", {class: "draft-section", id: "draft-s-" + si}, el("h3", {}, s.heading));
    if (s.note) sec.append(el("div", {class: "notice"}, s.note));
    if (!s.paragraphs.length) sec.append(el("p", {class: "muted"}, "（这一部分没有素材。）"));
    s.paragraphs.forEach((p, pi) => {
      refs.push(p.reference);
      const n = refs.length;
      const swap = el("button", {class: "plain swap", type: "button", onclick: () => {
        const next = s.spare.shift();
        s.spare.push(p);
        s.paragraphs[pi] = next;
        renderDraft();
      }}, "换一段");
      if (!s.spare.length) swap.disabled = true;
      const drop = el("button", {class: "plain drop", type: "button", onclick: () => {
        s.paragraphs.splice(pi, 1);
        s.spare.push(p);
        renderDraft();
      }}, "删除");
      const r = p.reference;
      sec.append(el("div", {class: "draft-para"},
        el("div", {class: "quote"}, p.text, el("a", {class: "marker", href: "#draft-ref-" + n}, "[" + n + "]")),
        el("div", {class: "actions"}, swap, drop,
           el("span", {class: "from"}, "摘自 " + r.citation))));
    });
    box.append(sec);
  });
  const list = el("ol", {class: "draft-refs"});
  refs.forEach((r, i) => list.append(el("li", {id: "draft-ref-" + (i + 1)},
    el("a", {href: docHref(r.doc_id, r.start, r.end)}, r.citation))));
  box.append(el("h3", {}, "参考来源"), list);
  const status = el("span", {class: "muted", id: "draft-status"});
  const bar = el("div", {class: "actions"},
    el("button", {type: "button", id: "draft-docx", onclick: () => saveDraft("docx", status)}, "下载 Word（.docx）"),
    el("button", {type: "button", class: "plain", id: "draft-md", onclick: () => saveDraft("md", status)}, "下载 Markdown"),
    status);
  out.replaceChildren(bar, box);
}

async function saveDraft(format, status) {
  status.textContent = "正在生成……";
  try {
    await download("/draft/export", {draft: draftExport(), format}, draftState.title + (format === "md" ? ".md" : ".docx"));
    status.textContent = "已下载";
  } catch (e) {
    status.textContent = e.message;
  }
}

