/* The library: documents listed and filtered, one opened with its section tree, deleted or
   re-ingested by editors; uploads run as background jobs whose progress and per-file results show. */
"use strict";
let libraryDocs = [];

const STAGES = {parse: "解析文件", embed: "向量化段落", write: "写入新版本"};
const STATUS = {added: "新增", updated: "更新", unchanged: "未变化", duplicate: "重复", skipped: "跳过", failed: "失败"};

function fillSelect(select, values, label = (v) => v) {
  const keep = select.value;
  select.replaceChildren(el("option", {value: ""}, "全部"), ...values.map((v) => el("option", {value: String(v)}, label(v))));
  select.value = values.map(String).includes(keep) ? keep : "";
}

async function showLibrary(collection) {
  const out = $("lib-list");
  out.replaceChildren(el("p", {class: "muted"}, "正在加载……"));
  try {
    const list = await api("/documents?limit=500");
    libraryDocs = list.documents;
    const uniq = (f) => [...new Set(libraryDocs.map(f).filter((x) => x !== null && x !== undefined))].sort();
    fillSelect($("lib-collection"), uniq((d) => d.collection));
    fillSelect($("lib-type"), uniq((d) => d.type));
    fillSelect($("lib-year"), uniq((d) => d.year).reverse());
    if (collection !== undefined) $("lib-collection").value = collection;
    if (list.total > libraryDocs.length) notice("文档较多，这里列出前 " + libraryDocs.length + " 篇；请用筛选缩小范围。");
    renderLibrary();
  } catch (e) {
    out.replaceChildren(el("div", {class: "error"}, e.message));
  }
}

function renderLibrary() {
  const q = $("lib-q").value.trim().toLowerCase();
  const c = $("lib-collection").value, t = $("lib-type").value, y = $("lib-year").value;
  const rows = libraryDocs.filter((d) => (!q || d.title.toLowerCase().includes(q) || (d.source || "").toLowerCase().includes(q))
    && (!c || d.collection === c) && (!t || d.type === t) && (!y || String(d.year) === y));
  $("lib-count").textContent = "共 " + rows.length + " 篇" + (rows.length < libraryDocs.length ? "（筛选自 " + libraryDocs.length + " 篇）" : "");
  const table = el("table", {class: "docs", id: "lib-table"},
    el("thead", {}, el("tr", {}, ...["标题", "知识库", "类型", "年份", "段落", "加入日期", ""].map((h) => el("th", {scope: "col"}, h)))));
  const body = el("tbody");
  for (const d of rows) {
    const actions = el("td", {class: "row-actions"});
    if (me.can_write) actions.append(deleteButton(d), el("button", {type: "button", class: "plain reingest",
      onclick: () => reingest(d)}, "重新导入"));
    body.append(el("tr", {id: "doc-row-" + d.doc_id},
      el("td", {class: "title", "data-label": "标题"}, el("a", {href: docHref(d.doc_id)}, d.title)),
      el("td", {"data-label": "知识库"}, d.collection), el("td", {"data-label": "类型"}, d.type || "—"),
      el("td", {"data-label": "年份"}, d.year || "—"), el("td", {"data-label": "段落"}, d.passages),
      el("td", {"data-label": "加入日期"}, d.added_on || "—"), actions));
  }
  table.append(body);
  $("lib-list").replaceChildren(rows.length ? table : el("div", {class: "notice"}, "没有符合条件的文档。"));
}

function deleteButton(d, after) {
  /* Two steps, on the page itself: 删除, then 确认删除 or 取消. */
  const box = el("span", {class: "confirm"});
  const ask = el("button", {type: "button", class: "plain delete", onclick: () => {
    box.replaceChildren(
      el("button", {type: "button", class: "danger confirm-delete", onclick: async () => {
        box.replaceChildren(el("span", {class: "muted"}, "正在删除……"));
        try {
          await api("/documents/" + encodeURIComponent(d.doc_id), {method: "DELETE"});
          notice("已删除《" + d.title + "》。");
          if (after) after(); else showLibrary();
        } catch (e) { box.replaceChildren(el("span", {class: "error-inline"}, e.message)); }
      }}, "确认删除"),
      el("button", {type: "button", class: "plain", onclick: () => box.replaceChildren(ask)}, "取消"));
    box.querySelector(".confirm-delete").focus();
  }}, "删除");
  box.append(ask);
  return box;
}

async function reingest(d) {
  const out = $("upload-result");
  out.scrollIntoView({block: "nearest"});
  try {
    const job = (await api("/documents/" + encodeURIComponent(d.doc_id) + "/reingest", {method: "POST"})).job;
    await watchJob(job, out, "重新导入《" + d.title + "》");
  } catch (e) { out.replaceChildren(el("div", {class: "error"}, e.message)); }
}

/* --- one document -------------------------------------------------------------------------------- */

function sectionTree(sections) {
  const nav = el("nav", {class: "toc", "aria-label": "章节目录"});
  const box = el("details", {open: ""}, el("summary", {}, "章节目录（" + sections.length + "）"));
  const list = el("ul");
  sections.forEach((s, i) => list.append(el("li", {style: "padding-left:" + (Math.max(s.depth, 1) - 1) + "em"},
    el("a", {href: "#sec-" + i, onclick: (ev) => { ev.preventDefault(); $("sec-" + i).scrollIntoView({block: "start"}); }},
       s.heading || "（正文）"))));
  box.append(list);
  nav.append(box);
  return nav;
}

function documentText(text, sections, start, end) {
  /* The text with an anchor where each section begins and the quoted span marked. */
  const box = $("doc-text");
  const hit = Number.isInteger(start) && Number.isInteger(end) && start < end && end <= text.length;
  const cuts = sections.map((s, i) => [s.start, "sec-" + i]);
  if (hit) cuts.push([start, "hit-start"], [end, "hit-end"]);
  cuts.sort((a, b) => a[0] - b[0] || (a[1] === "hit-end" ? -1 : 0));
  let pos = 0, into = box;
  for (const [at, what] of cuts) {
    into.append(text.slice(pos, at));
    pos = at;
    if (what === "hit-start") { const mark = el("mark", {id: "hit"}); into.append(mark); into = mark; }
    else if (what === "hit-end") into = box;
    else into.append(el("span", {id: what, class: "anchor"}));
  }
  into.append(text.slice(pos));
  return hit;
}

async function showDocument(docId, start, end) {
  $("doc-title").textContent = "正在打开……";
  $("doc-text").replaceChildren();
  $("doc-toc").replaceChildren();
  $("doc-actions").replaceChildren();
  try {
    const doc = await api("/documents/" + encodeURIComponent(docId));
    $("doc-title").textContent = "《" + doc.title + "》";
    $("doc-meta").textContent = [doc.collection, doc.type, doc.year, doc.passages + " 个段落",
                                 doc.added_on ? doc.added_on + " 加入" : ""].filter(Boolean).join(" · ");
    if (doc.sections.length > 1) $("doc-toc").append(sectionTree(doc.sections));
    if (me.can_write) $("doc-actions").append(deleteButton(doc, () => { location.hash = "#/library"; }));
    if (documentText(doc.text, doc.sections, start, end)) $("hit").scrollIntoView({block: "center"});
    else window.scrollTo(0, 0);
  } catch (e) {
    $("doc-title").textContent = "";
    $("doc-text").append(el("div", {class: "error"}, e.message));
  }
}

/* --- uploads ------------------------------------------------------------------------------------- */

function seconds(s) {
  s = Math.round(s);
  return s < 60 ? s + " 秒" : Math.floor(s / 60) + " 分 " + (s % 60) + " 秒";
}

function jobProgress(job, label) {
  const bar = el("progress", {id: "upload-progress", max: String(job.total || 1), value: String(job.done || 0),
                              "aria-label": "导入进度"});
  let text = job.state === "queued" ? "排队等待前面的导入任务……" : (STAGES[job.stage] || "准备中") +
             (job.total ? " " + job.done + "/" + job.total : "");
  if (job.state === "running" && job.eta_s !== null && job.eta_s > 0) text += "，预计还需 " + seconds(job.eta_s);
  return el("div", {class: "muted", id: "upload-status"}, label ? label + "：" : "", bar, " ", text);
}

function fileTable(files) {
  const table = el("table", {id: "upload-files", class: "report"},
    el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "文件"), el("th", {scope: "col"}, "结果"), el("th", {scope: "col"}, "说明"))));
  const body = el("tbody");
  for (const f of files) {
    body.append(el("tr", {class: "file-" + f.status}, el("td", {}, f.name), el("td", {}, STATUS[f.status] || f.status),
                   el("td", {}, f.reason || "")));
  }
  table.append(body);
  return table;
}

async function watchJob(job, out, label) {
  while (job.state === "queued" || job.state === "running") {
    out.replaceChildren(jobProgress(job, label));
    await new Promise((resolve) => setTimeout(resolve, 500));
    job = await api("/jobs/" + encodeURIComponent(job.id));
  }
  const box = el("div", {class: job.state === "done" ? "answer" : "error", id: "upload-report", role: "status"});
  const r = job.report;
  if (job.state === "done" && r) {
    box.append((label || "导入") + "完成", el("ul", {class: "report"},
      el("li", {}, "新增 " + r.added.length + " 篇，更新 " + r.replaced.length + " 篇，未变化 " + r.unchanged.length +
                   " 篇，重复 " + r.duplicates.length + " 篇，跳过 " + r.skipped.length + " 项"),
      el("li", {}, "本次切分 " + r.sections + " 个章节、" + r.passages + " 个段落；知识库共 " + r.total_documents +
                   " 篇文档、" + r.total_passages + " 个段落")));
  } else {
    box.append((label || "导入") + "失败：" + (job.error || ""));
  }
  if (job.files.length) box.append(fileTable(job.files));
  out.replaceChildren(box);
  showLibrary();
  loadFilters();
}

async function upload(ev) {
  ev.preventDefault();
  const form = new FormData();
  for (const f of $("files").files) form.append("files", f);
  form.append("collection", $("upload-collection").value.trim() || "default");
  const out = $("upload-result");
  out.replaceChildren(el("p", {class: "muted"}, "正在上传……"));
  try {
    await watchJob((await api("/documents", {method: "POST", body: form})).job, out);
    $("files").value = "";
  } catch (e) {
    out.replaceChildren(el("div", {class: "error"}, e.message));
  }
}
