/* Shared by every view: DOM helpers, the API client and the sign-in state (the API key). */
"use strict";
const API = "/api/v1";
const KEY = "dangjian-key";
const $ = (id) => document.getElementById(id);
const ROLES = {reader: "读者", cite: "引用", editor: "编辑", admin: "管理员"};
let me = {signed_in: false, role: "reader", collections: null, can_write: false};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v; else if (k.startsWith("on")) node[k] = v; else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === "") continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function docHref(docId, start, end) {
  const base = "#/doc/" + encodeURIComponent(docId);
  return Number.isInteger(start) && Number.isInteger(end) ? base + "?s=" + start + "&e=" + end : base;
}

function highlighted(text, spans) {
  const box = el("div", {class: "quote"});
  let pos = 0;
  for (const [s, e] of spans || []) {
    if (s < pos) continue;
    box.append(text.slice(pos, s), el("mark", {}, text.slice(s, e)));
    pos = e;
  }
  box.append(text.slice(pos));
  return box;
}

function notice(text, kind = "notice") {
  const box = $("page-notice");
  box.replaceChildren(text ? el("div", {class: kind}, text,
    el("button", {type: "button", class: "plain", onclick: () => box.replaceChildren()}, "知道了")) : "");
}

/* --- sign-in: a key is checked when entered, shown in the header, removable in one click ------- */

function storedKey() { return localStorage.getItem(KEY) || ""; }

function showWho() {
  const who = $("who");
  if (me.signed_in) {
    const where = me.collections ? "知识库：" + me.collections.join("、") : "全部知识库";
    who.textContent = "已登录：" + (ROLES[me.role] || me.role) + " · " + where;
  } else {
    who.textContent = "公开阅读（未登录）";
  }
  $("sign-in").hidden = me.signed_in;
  $("sign-out").hidden = !me.signed_in;
  document.body.classList.toggle("can-write", !!me.can_write);
  window.dispatchEvent(new Event("signin"));
}

function forgetKey(reason) {
  localStorage.removeItem(KEY);
  me = {signed_in: false, role: "reader", collections: null, can_write: false};
  showWho();
  if (reason) notice(reason);
}

async function checkKey(key) {
  /* The identity behind ``key``: null when the service rejects it. */
  const response = await fetch(API + "/me", {headers: {"Authorization": "Bearer " + key}});
  if (response.status === 401 || response.status === 403) return null;
  if (!response.ok) throw new Error("暂时无法核对密钥（HTTP " + response.status + "）");
  return response.json();
}

async function signIn(ev) {
  ev.preventDefault();
  const key = $("key").value.trim();
  const msg = $("key-message");
  if (!key) { msg.textContent = "请输入密钥"; return; }
  msg.textContent = "正在核对……";
  try {
    const found = await checkKey(key);
    if (!found) {
      msg.textContent = "密钥无效或已被撤销，没有保存；仍以公开身份阅读。";
      $("key").select();
      return;
    }
    localStorage.setItem(KEY, key);
    me = found;
    msg.textContent = "";
    $("key").value = "";
    toggleKeyPanel(false);
    showWho();
  } catch (e) {
    msg.textContent = e.message;
  }
}

function toggleKeyPanel(open) {
  $("key-panel").hidden = !open;
  $("sign-in").setAttribute("aria-expanded", String(open));
  if (open) $("key").focus(); else $("key-message").textContent = "";
}

async function restoreKey() {
  const key = storedKey();
  if (!key) { showWho(); return; }
  try {
    const found = await checkKey(key);
    if (found) { me = found; showWho(); } else forgetKey("保存的密钥已失效，已改为公开阅读。");
  } catch (e) { showWho(); }
}

/* --- the API client ------------------------------------------------------------------------------ */

async function call(path, options = {}) {
  /* fetch ``API + path`` with the stored key; a rejected key is dropped and the request sent again
     without it, so that public reading never fails because of a wrong key. */
  const key = storedKey();
  const auth = key ? {"Authorization": "Bearer " + key} : {};
  const response = await fetch(API + path, {...options, headers: {...auth, ...(options.headers || {})}});
  if (response.status === 401 && key) {
    forgetKey("密钥无效或已被撤销，已移除；现在以公开身份阅读。");
    return fetch(API + path, options);
  }
  return response;
}

async function failure(response) {
  const body = await response.json().catch(() => null);
  return new Error(body && body.error ? body.error.message : "请求失败（HTTP " + response.status + "）");
}

async function api(path, options = {}) {
  const response = await call(path, options);
  if (!response.ok) throw await failure(response);
  return response.json();
}

function postJSON(path, body) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
}

async function download(path, body, name) {
  const response = await call(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                     body: JSON.stringify(body)});
  if (!response.ok) throw await failure(response);
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", {href: url, download: name});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/* --- citations for people -------------------------------------------------------------------------- */

function whereText(p) {
  const parts = [];
  if (p.section_path && p.section_path.length) parts.push(p.section_path.join(" › "));
  if (p.page) parts.push(p.page_end && p.page_end !== p.page ? "第 " + p.page + "–" + p.page_end + " 页" : "第 " + p.page + " 页");
  return parts.join("，");
}

function crumb(p) {
  const where = whereText(p);
  return el("div", {class: "crumb"}, el("b", {}, "《" + p.title + "》"), where ? " › " + where : "");
}

function copyButton(text) {
  const button = el("button", {class: "plain copy", type: "button", onclick: async () => {
    try { await navigator.clipboard.writeText(text()); button.textContent = "已复制"; }
    catch (e) { button.textContent = "复制失败"; }
    setTimeout(() => { button.textContent = "复制引用"; }, 1500);
  }}, "复制引用");
  return button;
}

function technical(rows) {
  /* Offsets, scores and ids: for whoever checks the machinery, folded away by default. */
  const box = el("details", {class: "tech"}, el("summary", {}, "技术信息"));
  box.append(el("div", {class: "muted"}, rows.filter(Boolean).join("；")));
  return box;
}
