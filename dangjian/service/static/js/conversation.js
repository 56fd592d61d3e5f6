/* The conversation on screen: its turns stacked in order (the newest last), follow-ups sent with the
   conversation's id, “新对话”, and this browser's list of recent conversations to reopen or remove.
   Anonymous conversations are reachable only by their id, so this list is the way back to them. */
"use strict";
const HISTORY = "dangjian-conversations";
const HISTORY_MAX = 20;
let conversation = {id: null, turns: 0};

function history() {
  /* [{id, question (the first one), time (ISO)}], newest first. */
  try {
    const list = JSON.parse(localStorage.getItem(HISTORY) || "[]");
    return Array.isArray(list) ? list.filter((c) => c && typeof c.id === "string") : [];
  } catch (e) { return []; }
}

function saveHistory(list) {
  localStorage.setItem(HISTORY, JSON.stringify(list.slice(0, HISTORY_MAX)));
  renderHistory();
}

function remember(id, question) {
  const list = history();
  const old = list.find((c) => c.id === id);
  saveHistory([{id, question: old ? old.question : question, time: new Date().toISOString()},
               ...list.filter((c) => c.id !== id)]);
}

function when(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const two = (n) => String(n).padStart(2, "0");
  return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + two(d.getHours()) + ":" + two(d.getMinutes());
}

function renderHistory() {
  const list = history();
  $("history").hidden = !list.length;
  $("history-count").textContent = list.length;
  $("history-list").replaceChildren(...list.map((c) => el("li", {class: c.id === conversation.id ? "current" : null},
    el("button", {type: "button", class: "link open-conversation", "aria-current": c.id === conversation.id ? "true" : null,
                  onclick: () => reopen(c.id)}, c.question),
    el("span", {class: "muted"}, when(c.time)),
    el("button", {type: "button", class: "plain remove-conversation", "aria-label": "删除对话：" + c.question,
                  onclick: () => removeConversation(c.id)}, "删除"))));
}

async function removeConversation(id) {
  /* Off this browser's list and off the service (a conversation already gone there is fine). */
  const items = [...$("history-list").children];
  const at = history().findIndex((c) => c.id === id);
  saveHistory(history().filter((c) => c.id !== id));
  if (id === conversation.id) newConversation();
  const next = $("history-list").children[Math.min(at, items.length - 2)];
  if (next) next.querySelector("button").focus(); else $("question").focus();
  try { await call("/conversations/" + encodeURIComponent(id), {method: "DELETE"}); } catch (e) { /* offline: list only */ }
}

function newConversation() {
  /* Clear the turns and forget the id: the next question stands alone. */
  conversation = {id: null, turns: 0};
  $("result").replaceChildren();
  $("status").textContent = "";
  $("new-conversation").hidden = true;
  renderHistory();
}

function retire(turn) {
  /* An older turn gives up its ids (#answer, #passage-1 …) so that the newest turn's stay unique, and
     folds its passages away (its [n] markers still open them) so the conversation reads in order. */
  if (turn.dataset.retired) return;
  const body = turn.querySelector(".turn-body");
  const heading = body.querySelector(":scope > h2.sub");
  const cards = [...body.querySelectorAll(":scope > .passage")];
  if (heading && cards.length) {
    const fold = el("details", {class: "turn-sources"}, el("summary", {}, heading.textContent + "（" + cards.length + "）"));
    heading.replaceWith(fold);
    fold.append(...cards);
  }
  const prefix = "t" + turn.dataset.n + "-";
  turn.querySelectorAll("[id]").forEach((n) => { if (!n.id.startsWith("turn-")) n.id = prefix + n.id; });
  turn.querySelectorAll("a.marker").forEach((a) => a.setAttribute("href", "#" + prefix + a.getAttribute("href").slice(1)));
  turn.dataset.retired = "1";
}

function addTurn(question) {
  /* A new turn at the bottom of the conversation: the question now, its answer when it comes. */
  $("result").querySelectorAll(".turn").forEach(retire);
  const n = ++conversation.turns;
  const turn = el("article", {class: "turn", "aria-labelledby": "turn-q-" + n, "data-n": n},
    el("h2", {class: "turn-q", id: "turn-q-" + n}, el("span", {class: "turn-n"}, "问 " + n),
       el("span", {class: "turn-text"}, question)),
    el("div", {class: "turn-body"}));
  $("result").append(turn);
  $("new-conversation").hidden = false;
  return turn;
}

function showResolved(turn, resolved) {
  /* “已理解为：…” with a button that puts it in the ask box, so staff can correct it and ask again. */
  if (!resolved) return;
  const edit = el("button", {type: "button", class: "plain", onclick: () => {
    $("question").value = resolved;
    $("question").focus();
  }}, "修改后再问");
  turn.querySelector(".turn-q").after(el("p", {class: "resolved"}, "已理解为：" + resolved + " ", edit));
}

function storedBody(t) {
  /* A stored turn in renderTurn's shape: each citation shown as its quoted sentence. */
  const citations = t.citations.map((c) => ({...c, rank: c.marker}));
  const passages = citations.map((c) => ({...c, highlights: [], score: null}));
  return {answer: t.answer, layout: t.layout, abstained: t.abstained, citations, passages};
}

async function reopen(id) {
  const response = await call("/conversations/" + encodeURIComponent(id));
  if (response.status === 404) {
    saveHistory(history().filter((c) => c.id !== id));
    notice("这段对话已不存在（已过期或已删除），已从列表中移除。");
    return;
  }
  if (!response.ok) { notice((await failure(response)).message, "error"); return; }
  const saved = await response.json();
  newConversation();
  conversation.id = saved.id;
  $("home").hidden = true;
  let turn = null;
  for (const t of saved.turns) {
    turn = addTurn(t.question);
    showResolved(turn, t.resolved);
    renderTurn(storedBody(t), turn.querySelector(".turn-body"));
  }
  $("status").textContent = "已打开 " + when(saved.created) + " 的对话，共 " + saved.turns.length + " 问；可以接着追问。";
  renderHistory();
  $("history").open = false;
  $("question").focus({preventScroll: true});
  if (turn) turn.scrollIntoView({block: "start"});
}
