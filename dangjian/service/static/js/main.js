/* Which view the address shows (#/, #/library, #/doc/…, #/methods, #/quiz, #/draft), and start-up. */
"use strict";
const VIEWS = ["ask", "library", "doc", "methods", "quiz", "draft"];

async function loadFilters() {
  try {
    const [collections, docs] = await Promise.all([api("/collections"), api("/documents?limit=500")]);
    const named = collections.map((x) => x.name);
    const label = (name) => name + "（" + collections.find((x) => x.name === name).documents + "）";
    fillSelect($("collection"), named, label);
    fillSelect($("draft-collection"), named, label);
    fillSelect($("doctype"), [...new Set(docs.documents.map((d) => d.type).filter(Boolean))].sort());
  } catch (e) { /* filters are optional; the ask box still works */ }
}

function route() {
  const hash = location.hash || "#/";
  const doc = hash.match(/^#\/doc\/([^?]+)(?:\?s=(\d+)&e=(\d+))?/);
  let view = doc ? "doc" : (hash.match(/^#\/(library|upload|methods|quiz|draft)/) || [null, "ask"])[1];
  const upload = view === "upload";
  if (upload) view = "library";
  for (const v of VIEWS) {
    $("view-" + v).hidden = v !== view;
    const link = $("nav-" + v);
    if (link) { if (v === view) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current"); }
  }
  if (doc) showDocument(decodeURIComponent(doc[1]), Number(doc[2]), Number(doc[3]));
  if (view === "library") {
    const c = hash.match(/[?&]c=([^&]+)/);
    showLibrary(c ? decodeURIComponent(c[1]) : undefined);
    if (upload) $("upload-panel").scrollIntoView();
  }
  if (view === "methods") showMethods();
  if (view === "ask" && !$("result").childElementCount) { $("home").hidden = false; showHome(); }
}

$("ask-form").addEventListener("submit", ask);
$("upload-form").addEventListener("submit", upload);
$("quiz-form").addEventListener("submit", startQuiz);
$("quiz-download").addEventListener("click", downloadSheet);
$("draft-form").addEventListener("submit", makeDraft);
$("draft-template").addEventListener("change", () => {
  const own = !$("draft-template").value;
  $("draft-outline").hidden = $("draft-outline-label").hidden = !own;
});
$("methods-form").addEventListener("submit", (ev) => { ev.preventDefault(); showMethods(); });
$("methods-q").addEventListener("search", showMethods);
for (const id of ["lib-q", "lib-collection", "lib-type", "lib-year"]) $(id).addEventListener("input", renderLibrary);
$("lib-form").addEventListener("submit", (ev) => { ev.preventDefault(); renderLibrary(); });
$("back").addEventListener("click", (ev) => { ev.preventDefault(); history.back(); });
function freshStart() {  // 首页 or 新对话: the home panel instead of the last conversation
  newConversation();
  if ((location.hash || "#/") === "#/") route(); else location.hash = "#/";
}
$("nav-ask").addEventListener("click", freshStart);
$("new-conversation").addEventListener("click", () => { freshStart(); $("question").focus(); });
$("sign-in").addEventListener("click", () => toggleKeyPanel($("key-panel").hidden));
$("key-cancel").addEventListener("click", () => toggleKeyPanel(false));
$("key-panel").addEventListener("submit", signIn);
$("key-panel").addEventListener("keydown", (ev) => { if (ev.key === "Escape") { toggleKeyPanel(false); $("sign-in").focus(); } });
$("sign-out").addEventListener("click", () => forgetKey("密钥已移除，现在以公开身份阅读。"));
window.addEventListener("signin", () => { if (!$("view-library").hidden) renderLibrary(); });
window.addEventListener("hashchange", route);
renderHistory();
restoreKey().then(() => { route(); loadFilters(); });
