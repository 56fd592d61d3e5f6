/* Home and questions: what the knowledge base holds, example questions, answers with citations;
   the method-card page. */
"use strict";

function passageCard(p, id) {
  const card = el("article", {class: "passage", id, "data-rank": p.rank});
  const open = el("a", {href: docHref(p.doc_id, p.start, p.end), class: "open"}, "查看原文");
  card.append(crumb(p), highlighted(p.quote, p.highlights),
              el("div", {class: "actions"}, copyButton(() => p.citation + "\n“" + p.quote + "”"), open),
              technical(["第 " + p.start + "–" + p.end + " 字", p.score == null ? "" : "排名 " + p.rank,
                         p.score == null ? "" : "得分 " + p.score.toFixed(4), "段落编号 " + p.passage_id]));
  return card;
}

function methodCard(m, id) {
  const card = el("article", {class: "method", id});
  const d = m.definition;
  const names = m.aliases.length ? "（又称 " + m.aliases.join("、") + "）" : "";
  card.append(el("h3", {}, m.name + names + " · " + m.kind, m.generic ? el("span", {class: "tag"}, "通用，非本地工作法") : ""));
  if (m.components.length) {
    const list = el("ol", {class: "components"});
    for (const c of m.components) list.append(el("li", {}, c.text));
    card.append(list);
  }
  if (m.count_note) card.append(el("div", {class: "muted"}, m.count_note));
  if (m.places.length) card.append(el("div", {class: "outcome"}, el("b", {}, "应用于："), m.places.map((p) => p.text).join("、")));
  for (const [label, list] of [["成效", m.results], ["解决的问题", m.problems]]) {
    if (list.length) card.append(el("div", {class: "outcome"}, el("b", {}, label + "："), list[0].quote));
  }
  card.append(crumb(d), el("blockquote", {}, d.quote),
              el("div", {class: "actions"}, el("a", {href: docHref(d.doc_id, d.start, d.end), class: "open"}, "查看原文"),
                 m.documents.length + " 篇文档提到 " + m.mentions.length + " 次"));
  return card;
}

/* --- home ------------------------------------------------------------------------------------------ */

function exampleQuestions(cards, docs) {
  /* Questions the corpus answers: its own method names first, then its documents' titles. */
  const local = cards.filter((m) => !m.generic);
  const questions = local.slice(0, 4).map((m) => m.name + "具体怎么做？");
  if (local.length) questions.splice(1, 0, local[0].name + "包括什么？");
  for (const d of docs) {
    if (questions.length >= 5) break;
    questions.push(d.title + "的主要内容是什么？");
  }
  return [...new Set(questions)].slice(0, 5);
}

function byAdded(a, b) { return (b.added_on || "").localeCompare(a.added_on || ""); }

async function showHome() {
  try {
    const [health, docs, cards] = await Promise.all([api("/health"), api("/documents?limit=500"),
                                                     api("/methods").catch(() => [])]);
    const collections = Object.entries(health.collections);
    $("home-stats").replaceChildren(
      el("span", {class: "stat"}, el("b", {id: "stat-documents"}, health.documents), " 篇文档"),
      el("span", {class: "stat"}, el("b", {id: "stat-passages"}, health.passages), " 个段落"),
      el("span", {class: "stat"}, el("b", {id: "stat-collections"}, collections.length), " 个知识库"),
      el("span", {class: "stat"}, el("b", {}, cards.filter((m) => !m.generic).length), " 个工作法"));
    $("home-collections").replaceChildren(...collections.map(([name, n]) =>
      el("li", {}, el("a", {href: "#/library?c=" + encodeURIComponent(name)}, name), "：" + n + " 篇")));
    const latest = [...docs.documents].sort(byAdded).slice(0, 5);
    $("home-latest").replaceChildren(...latest.map((d) =>
      el("li", {}, el("a", {href: docHref(d.doc_id)}, "《" + d.title + "》"),
         el("span", {class: "muted"}, " " + [d.collection, d.added_on].filter(Boolean).join(" · ")))));
    $("examples").replaceChildren(...exampleQuestions(cards, latest).map((q) =>
      el("button", {type: "button", class: "example", onclick: () => { $("question").value = q; askQuestion(q); }}, q)));
  } catch (e) {
    $("home-stats").replaceChildren(el("div", {class: "error"}, e.message));
  }
}

/* --- a question and its answer ------------------------------------------------------------------- */

function renderTurn(body, out) {
  /* One answer, rendered into ``out``: the answer with [n] markers, then its cited passages. */
  out.replaceChildren();
  if (body.abstained && !body.passages.length) {
    out.append(el("div", {class: "notice", id: "nothing"}, body.answer + " 可以换个说法，或用文档里的词语再问一次。"));
    return;
  }
  if (body.fallback) out.append(el("div", {class: "notice", id: "fallback"}, body.fallback));
  if (body.method) out.append(methodCard(body.method, "method-card"));
  if (body.abstained) {
    out.append(el("div", {class: "notice", id: "missing"}, body.answer));
  } else {
    const answer = el("div", {class: "answer", id: "answer"});
    const marked = (text, into) => {
      for (const part of text.split(/(\[\d+\])/)) {
        const m = part.match(/^\[(\d+)\]$/);
        if (m) {
          const c = body.citations.find((x) => x.marker === Number(m[1]));
          const rank = c ? c.rank : 1;
          into.append(el("a", {class: "marker", href: "#passage-" + rank, title: c ? c.citation : "",
                               onclick: (ev) => { ev.preventDefault(); focusPassage(rank, out); }}, part));
        } else into.append(part);
      }
      return into;
    };
    if (body.layout === "list") {  // a lead line, then one cited part per line
      const [lead, ...items] = body.answer.split("\n");
      answer.append(marked(lead, el("p", {class: "lead"})));
      const list = el("ol", {class: "parts"});
      items.forEach((line) => list.append(marked(line, el("li", {}))));
      answer.append(list);
    } else marked(body.answer, answer);
    out.append(answer);
  }
  out.append(el("h2", {class: "sub"}, body.abstained ? "相关段落" : "出处段落"));
  body.passages.forEach((p) => out.append(passageCard(p, "passage-" + p.rank)));
}

function focusPassage(rank, scope = document) {
  /* The passage cited as [rank] within ``scope`` (one turn of the conversation). */
  document.querySelectorAll(".passage.target").forEach((n) => n.classList.remove("target"));
  const card = scope.querySelector('.passage[data-rank="' + rank + '"]');
  if (card) {
    const fold = card.closest("details");  // an earlier turn's passages, folded away
    if (fold) fold.open = true;
    card.classList.add("target");
    card.scrollIntoView({block: "center"});
    card.querySelector("a.open").focus();
  }
}

async function askQuestion(question) {
  /* Post one question (with the filters chosen, and the conversation's id for a follow-up) and add
     its answer to the conversation on screen as the newest turn. */
  const payload = {question, k: 5};
  if ($("collection").value) payload.collections = [$("collection").value];
  if ($("doctype").value) payload.filters = {types: [$("doctype").value]};
  const sent = conversation.id;
  if (sent) payload.conversation_id = sent;
  $("home").hidden = true;
  $("status").textContent = "正在检索……";
  const turn = addTurn(question);
  try {
    const body = await postJSON("/ask", payload);
    $("status").textContent = "用时 " + Math.round(body.took_ms) + " 毫秒";
    if (sent && body.conversation_id !== sent) {  // expired, or another key's: the service began anew
      $("result").querySelectorAll(".turn").forEach((t) => { if (t !== turn) t.remove(); });
      notice("之前的对话已过期或不可用，已开始新对话。");
    }
    conversation.id = body.conversation_id;
    remember(body.conversation_id, question);
    showResolved(turn, body.resolved);
    renderTurn(body, turn.querySelector(".turn-body"));
    if ($("question").value.trim() === question) $("question").value = "";
  } catch (e) {
    $("status").textContent = "";
    turn.querySelector(".turn-body").append(el("div", {class: "error"}, e.message));
  }
  turn.scrollIntoView({block: "start"});
}

function ask(ev) {
  ev.preventDefault();
  const question = $("question").value.trim();
  if (question) askQuestion(question);
}

/* --- method cards -------------------------------------------------------------------------------- */

async function showMethods() {
  const out = $("methods");
  out.replaceChildren(el("p", {class: "muted"}, "正在加载……"));
  try {
    const q = $("methods-q").value.trim();
    const cards = await api("/methods" + (q ? "?q=" + encodeURIComponent(q) : ""));
    const groups = new Map();
    for (const m of cards) {
      if (!groups.has(m.group)) groups.set(m.group, []);
      groups.get(m.group).push(m);
    }
    const nodes = [];
    let i = 0;
    for (const [group, list] of groups) {
      nodes.push(el("h2", {class: "group-title"}, group + "（" + list.length + "）"));
      for (const m of list) nodes.push(methodCard(m, "method-" + i++));
    }
    out.replaceChildren(...nodes);
    if (!cards.length) out.append(el("div", {class: "notice"}, q ? "没有找到与“" + q + "”有关的工作法。" : "知识库中还没有识别出工作法。"));
  } catch (e) {
    out.replaceChildren(el("div", {class: "error"}, e.message));
  }
}
