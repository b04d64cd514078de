// The wallboard: the board the server pushes (GET /wallboard/stream, server-sent events), drawn as it comes; waits
// and times in state tick between pushes from the server's clock. Supervisors act from here: listen, whisper,
// barge, disconnect a call, force an agent's state (only the controls the token's role allows are drawn).
import { api, duration, el, follow, frame, percent, t } from "./common.js";

frame("nav_wallboard");

let board = null;
let offset = 0; // server time - browser time, from the last board
const phone = document.getElementById("phone");

function now() {
  return Date.now() / 1000 + offset;
}

function tile(queue) {
  const breached = queue.service_level !== null && queue.service_level < 0.8;
  const figure = (field, label, value) =>
    el("div", { class: "figure", dataset: { field } }, el("span", { class: "label", text: t(label) }),
      el("span", { class: "value", text: value }));
  return el(
    "article",
    { class: breached ? "tile breached" : "tile", dataset: { queue: queue.id } },
    el("h2", { text: queue.name }),
    figure("waiting", "waiting", queue.waiting),
    el("div", { class: "figure", dataset: { field: "longest_wait" } },
      el("span", { class: "label", text: t("longest_wait") }),
      el("span", { class: "value tick", dataset: { since: queue.oldest_since ?? "" },
        text: queue.oldest_since === null ? "–" : duration(now() - queue.oldest_since) })),
    figure("service_level", "service_level", `${percent(queue.service_level)} / ${queue.sla_seconds} s`),
    figure("abandon_rate", "abandon_rate", percent(queue.abandon_rate)),
    figure("callbacks_pending", "callbacks_pending", queue.callbacks_pending),
  );
}

async function act(path, body, button) {
  const notice = document.getElementById("notice");
  button.disabled = true;
  try {
    await api(path, { method: "POST", body });
    notice.textContent = `${t("done")}: ${button.textContent}`;
  } catch (error) {
    notice.textContent = `${t("failed")}: ${button.textContent} (${error.message})`;
  } finally {
    button.disabled = false;
  }
}

function actions(agent) {
  const allowed = board.allowed;
  const buttons = [];
  const button = (label, path, body) => {
    const node = el("button", { type: "button", dataset: { action: label, agent: agent.id }, text: t(label) });
    node.addEventListener("click", () => act(path, typeof body === "function" ? body() : body, node));
    buttons.push(node);
  };
  const onCall = agent.call_id && ["talking", "on_hold", "reserved"].includes(agent.state);
  if (onCall && allowed.monitor && board.supervisors.length) {
    for (const mode of ["listen", "whisper", "barge"]) {
      button(mode, `/calls/${encodeURIComponent(agent.call_id)}/monitor`, () => ({ supervisor: phone.value, mode }));
    }
  }
  if (onCall && allowed.hangup) button("disconnect", `/calls/${encodeURIComponent(agent.call_id)}/hangup`);
  if (allowed.force) {
    const path = `/agents/${encodeURIComponent(agent.id)}/force`;
    if (agent.state !== "available") button("force_ready", path, { state: "available" });
    if (agent.state !== "not_ready" && agent.state !== "logged_out") {
      button("force_not_ready", path, { state: "not_ready", reason: "supervisor" });
    }
    if (agent.state !== "logged_out") button("force_logout", path, { state: "logged_out" });
  }
  return buttons;
}

function agentRow(agent) {
  return el(
    "tr",
    { class: `state-${agent.state}`, dataset: { agent: agent.id } },
    el("td", { text: agent.name || agent.id }),
    el("td", { class: "state", dataset: { state: agent.state }, text: t(`state.${agent.state}`) }),
    el("td", { class: "tick", dataset: { since: agent.since }, text: duration(now() - agent.since) }),
    el("td", { text: agent.reason && agent.state === "not_ready" ? t(`reason.${agent.reason}`) : "" }),
    el("td", { text: agent.queues.join(", ") }),
    el("td", { class: "actions" }, actions(agent)),
  );
}

function alertItems() {
  const standing = board.alerts.filter((alert) => alert.since <= now());
  if (!standing.length) return [el("li", { class: "none", text: t("no_alerts") })];
  return standing.map((alert) =>
    el("li", { class: `alert alert-${alert.kind}`, dataset: { kind: alert.kind, subject: alert.subject } },
      el("strong", { text: t(`alert.${alert.kind}`) }), " ", alert.subject, alert.detail ? ` · ${alert.detail}` : "",
      alert.kind === "service_level" ? null
        : el("span", { class: "tick", dataset: { since: alert.since }, text: ` ${duration(now() - alert.since)}` })),
  );
}

function draw() {
  document.getElementById("queues").replaceChildren(...board.queues.map(tile));
  document.querySelector("#agents tbody").replaceChildren(
    ...board.agents.filter((agent) => agent.state !== "logged_out" || board.allowed.force).map(agentRow),
  );
  document.getElementById("alerts").replaceChildren(...alertItems());
  if (board.supervisors.length && phone.options.length !== board.supervisors.length) {
    const chosen = sessionStorage.getItem("callcenter.phone") || phone.value;
    phone.replaceChildren(...board.supervisors.map((id) => el("option", { value: id, text: id })));
    if (board.supervisors.includes(chosen)) phone.value = chosen;
    document.getElementById("phone-choice").hidden = false;
  }
  document.body.dataset.at = String(board.at);
}

phone.addEventListener("change", () => sessionStorage.setItem("callcenter.phone", phone.value));

// Between pushes only the clocks move: waits, times in state, alerts whose time has come.
setInterval(() => {
  if (!board) return;
  for (const node of document.querySelectorAll(".tick[data-since]")) {
    if (node.dataset.since === "") continue;
    const shown = duration(now() - Number(node.dataset.since));
    node.textContent = node.closest("li.alert") ? ` ${shown}` : shown;
  }
  const due = board.alerts.filter((alert) => alert.since <= now()).length;
  if (due !== document.querySelectorAll("#alerts li.alert").length) {
    document.getElementById("alerts").replaceChildren(...alertItems());
  }
}, 1000);

follow(
  "/wallboard/stream",
  (type, data) => {
    if (type !== "board") return;
    board = data;
    offset = data.at - Date.now() / 1000;
    draw();
  },
  (live) => {
    const status = document.getElementById("status");
    status.dataset.i18n = live ? "connected" : "disconnected";
    status.textContent = t(status.dataset.i18n);
    status.className = live ? "live" : "offline";
  },
);
