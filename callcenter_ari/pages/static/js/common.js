// What every page shares: the token kept in the session, API calls with it, the labels of the chosen language,
// and building elements from data with textContent only (caller names and CRM data are untrusted: never HTML).
import en from "../i18n/en.js";
import zh from "../i18n/zh.js";

const TOKEN_KEY = "callcenter.token";
const SESSION_KEY = "callcenter.session";
const LANG_KEY = "callcenter.lang";
const LABELS = { en, zh };

export const API = "/api/v1";

export function language() {
  const chosen = localStorage.getItem(LANG_KEY);
  if (chosen in LABELS) return chosen;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function t(key) {
  const labels = LABELS[language()];
  return key in labels ? labels[key] : key in en ? en[key] : key;
}

export function applyLabels(root = document) {
  document.documentElement.lang = language() === "zh" ? "zh-CN" : "en";
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
}

export function toggleLanguage() {
  localStorage.setItem(LANG_KEY, language() === "zh" ? "en" : "zh");
}

// An element with attributes and children; strings become text nodes, never markup.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "on") for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    else if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function session() {
  const kept = sessionStorage.getItem(SESSION_KEY);
  return kept ? JSON.parse(kept) : null;
}

export function remember(secret, who) {
  sessionStorage.setItem(TOKEN_KEY, secret);
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(who));
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(SESSION_KEY);
  location.assign("index.html");
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(path, { method = "GET", body, secret = token(), raw = false } = {}) {
  const headers = { Authorization: `Bearer ${secret}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  if (response.status === 401 && token()) {
    signOut();
    throw new ApiError(401, null);
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Server-sent events read with fetch, so that the token travels in the Authorization header and never in a URL
// (EventSource cannot send headers). Calls onEvent(type, data) for each event; reconnects after a drop.
export function follow(path, onEvent, onStatus = () => {}) {
  let stopped = false;
  const controller = new AbortController();
  async function once() {
    const response = await fetch(API + path, {
      headers: { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" },
      cache: "no-store",
      signal: controller.signal,
    });
    if (response.status === 401) signOut();
    if (!response.ok) throw new ApiError(response.status, null);
    onStatus(true);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replaceAll("\r\n", "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(type, JSON.parse(data.join("\n")));
      }
    }
  }
  (async () => {
    let delay = 500;
    while (!stopped) {
      try {
        await once();
        delay = 500;
      } catch (error) {
        if (stopped) return;
      }
      onStatus(false);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
  return () => {
    stopped = true;
    controller.abort();
  };
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)}%`;
}

// The page's header: title, navigation by role, language switch and sign-out. Returns the session, or leaves for
// the login page when there is none.
export function frame(title) {
  const who = session();
  if (!who || !token()) {
    location.assign("index.html");
    throw new Error("not signed in");
  }
  const may = new Set(who.permissions);
  const nav = el(
    "nav",
    {},
    may.has("wallboard.read") ? el("a", { href: "wallboard.html", "data-i18n": "nav_wallboard" }) : null,
    who.agent_id ? el("a", { href: "agent.html", "data-i18n": "nav_agent" }) : null,
    may.has("reports.read") ? el("a", { href: "reports.html", "data-i18n": "nav_reports" }) : null,
  );
  const header = el(
    "header",
    {},
    el("h1", { "data-i18n": title }),
    nav,
    el("span", { class: "who", text: `${who.name} · ${who.role} · ${who.tenant}` }),
    el("button", { type: "button", id: "language", "data-i18n": "language", on: { click: () => {
      toggleLanguage();
      location.reload();
    } } }),
    el("button", { type: "button", id: "sign-out", "data-i18n": "logout", on: { click: signOut } }),
  );
  document.body.prepend(header);
  document.title = t(title);
  applyLabels();
  return who;
}
