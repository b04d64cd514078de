// The agent desktop: the agent's own state, the call offered or taken with its screen pop, the call controls, the
// work order of the last call with its 15-minute countdown beside the form that schedules a callback (for the agent
// only or anyone in the call's queue, carrying the work order's number), and the day's own recordings. The agent's
// record is read every second (GET /agents/{id}: the token's own agent only), with the server's time (GET /session)
// that times in state and the countdown are measured by.
import { ApiError, api, duration, el, frame, t } from "./common.js";

const who = frame("nav_agent");
const me = who.agent_id;
const agentPath = `/agents/${encodeURIComponent(me)}`;
const OVERDUE_AFTER = 15 * 60; // the work order is due 15 minutes after the call ended (tickets/deadlines.py)
const LAST_CALL = "callcenter.last_call";

let agent = null;
let offset = 0;
let ticket = null;
const byId = (id) => document.getElementById(id);
const notice = (text) => (byId("notice").textContent = text);

function now() {
  return Date.now() / 1000 + offset;
}

async function run(what, path, body) {
  try {
    await api(path, { method: "POST", body });
    notice(`${t("done")}: ${t(what)}`);
    await refresh();
  } catch (error) {
    notice(`${t("failed")}: ${t(what)} (${error.message})`);
  }
}

function callPath(suffix = "") {
  return `/calls/${encodeURIComponent(agent.call_id)}${suffix}`;
}

// A CRM link is shown only when the IVR collected an http(s) address: a javascript: or data: URL never becomes one.
function crmAddress(variables) {
  const given = variables.crm_url || variables.CRM_URL || "";
  try {
    const url = new URL(given);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function showCall(call) {
  byId("no-call").hidden = Boolean(call);
  byId("call").hidden = !call;
  if (!call) return;
  byId("call-name").textContent = call.caller_name;
  byId("call-caller").textContent = call.caller;
  byId("call-did").textContent = call.did;
  byId("call-queue").textContent = call.queue;
  byId("call-ivr").textContent = call.ivr_path.join(" › ");
  byId("call-data").tBodies[0].replaceChildren(
    ...Object.entries(call.variables).map(([name, value]) => el("tr", {}, el("th", { text: name }), el("td", { text: value }))),
  );
  const link = byId("crm-link");
  const address = crmAddress(call.variables);
  link.hidden = !address;
  if (address) link.href = address;
  else link.removeAttribute("href");
  byId("hold").hidden = call.on_hold;
  byId("unhold").hidden = !call.on_hold;
  const consulting = Boolean(call.consult);
  for (const id of ["consult-complete", "consult-cancel", "conference"]) byId(id).hidden = !consulting;
  sessionStorage.setItem(LAST_CALL, JSON.stringify({ id: call.id, caller: call.caller }));
}

async function findTicket() {
  const last = JSON.parse(sessionStorage.getItem(LAST_CALL) || "null");
  if (!last || !last.caller) return null;
  if (ticket && ticket.call_id === last.id) return ticket;
  try {
    const found = await api(`/tickets?caller_number=${encodeURIComponent(last.caller)}&limit=20`);
    return found.tickets.find((candidate) => candidate.call_id === last.id && candidate.status === "open") || null;
  } catch (error) {
    if (error instanceof ApiError) return null;
    throw error;
  }
}

function showOrder() {
  const panel = byId("order-panel");
  panel.hidden = !ticket;
  if (!ticket) return;
  byId("order-number").textContent = ticket.number;
  tickCountdown();
  fillCallback();
}

function tickCountdown() {
  if (!ticket) return;
  const left = ticket.call_ended_at + OVERDUE_AFTER - now();
  const node = byId("countdown");
  node.textContent = left >= 0 ? duration(left) : `${t("overdue")} ${duration(-left)}`;
  node.className = left >= 0 ? (left < 120 ? "tick soon" : "tick") : "tick late";
}

async function refresh() {
  const asked = Date.now() / 1000;
  const [found, server] = await Promise.all([api(agentPath), api("/session")]);
  agent = found;
  offset = server.now - (asked + Date.now() / 1000) / 2;
  byId("me-name").textContent = agent.name || agent.id;
  const state = byId("me-state");
  state.textContent = t(`state.${agent.state}`);
  state.dataset.state = agent.state;
  byId("me-since").dataset.since = agent.since;
  byId("me-since").textContent = duration(now() - agent.since);
  byId("me-reason").textContent = agent.state === "not_ready" && agent.reason ? t(`reason.${agent.reason}`) : "";
  const loggedOut = agent.state === "logged_out";
  byId("log-in").hidden = !loggedOut;
  byId("log-out").hidden = loggedOut;
  byId("ready").hidden = !["not_ready", "wrapup"].includes(agent.state);
  byId("not-ready").hidden = loggedOut || agent.state === "not_ready";
  showCall(agent.call);
  if (!agent.call) {
    ticket = await findTicket();
    showOrder();
  }
}

async function loadRecordings() {
  const midnight = new Date();
  midnight.setUTCHours(0, 0, 0, 0);
  const found = await api(`/recordings?agent_id=${encodeURIComponent(me)}&since=${midnight.getTime() / 1000}`);
  const list = byId("recordings");
  if (!found.recordings.length) {
    list.replaceChildren(el("li", { text: t("no_recordings") }));
    return;
  }
  list.replaceChildren(
    ...found.recordings.map((rec) =>
      el("li", {},
        `${new Date(rec.started_at * 1000).toLocaleTimeString()} · ${rec.caller} · ${duration(rec.duration)} `,
        rec.state === "done"
          ? el("button", { type: "button", text: t("play"), on: { click: () => play(rec.name) } })
          : el("span", { text: rec.state })),
    ),
  );
}

// The audio is fetched with the token (never in the URL) and played from a blob.
async function play(name) {
  const response = await api(`/recordings/${encodeURIComponent(name)}/file`, { raw: true });
  const player = byId("player");
  if (player.src) URL.revokeObjectURL(player.src);
  player.src = URL.createObjectURL(await response.blob());
  player.hidden = false;
  await player.play().catch(() => {});
}

function orderBody(form) {
  const field = (name) => form.elements[name].value.trim();
  return {
    category: field("category"),
    customer_name: field("customer_name"),
    place: field("place"),
    summary: field("summary"),
    description: { time: field("time"), what_happened: field("what_happened"), request: field("request") },
    answer: field("answer"),
    answer_basis: field("answer_basis"),
    urgent: form.elements.urgent.checked,
  };
}

byId("order").addEventListener("submit", async (event) => {
  event.preventDefault();
  const errors = byId("order-errors");
  errors.replaceChildren();
  try {
    await api(`/tickets/${encodeURIComponent(ticket.number)}/complete`, { method: "POST", body: orderBody(event.target) });
    notice(`${t("filed")}: ${ticket.number}`);
    sessionStorage.removeItem(LAST_CALL);
    ticket = null;
    event.target.reset();
    showOrder();
  } catch (error) {
    const problems = (error.body && error.body.errors) || [{ field: "", message: error.message }];
    errors.replaceChildren(...problems.map((p) => el("li", { dataset: { field: p.field }, text: `${p.field} ${p.message}` })));
  }
});

// The callback form starts afresh for each work order, with the caller's number; what the agent types stays.
let callbackFor = null;

function fillCallback() {
  if (callbackFor === ticket.number) return;
  callbackFor = ticket.number;
  const form = byId("callback");
  form.reset();
  showCallbackProblems([]);
  byId("callback-done").textContent = "";
  const last = JSON.parse(sessionStorage.getItem(LAST_CALL) || "null");
  form.elements.number.value = ticket.caller_number || (last && last.caller) || "";
  byId("callback-queue").textContent = ticket.queue;
}

// The agent's local date and time as unix seconds; undefined when neither is given (as soon as its turn comes).
function callbackTime(form) {
  const date = form.elements.date.value;
  const time = form.elements.time.value;
  if (!date && !time) return undefined;
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute] = time.split(":").map(Number);
  const at = new Date(year, month - 1, day, hour, minute).getTime() / 1000;
  return date && time && Number.isFinite(at) ? at : null;
}

// Each problem beside its field (number, at, agent, note); the others, or none named, listed under the form.
function showCallbackProblems(problems) {
  const form = byId("callback");
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  const rest = [];
  for (const problem of problems) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(problem.field)}"]`);
    if (slot) slot.textContent = problem.message;
    else rest.push(problem);
  }
  byId("callback-errors").replaceChildren(
    ...rest.map((p) => el("li", { dataset: { field: p.field }, text: p.field ? `${p.field}: ${p.message}` : p.message })),
  );
}

byId("callback").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const done = byId("callback-done");
  done.textContent = "";
  const at = callbackTime(form);
  if (at === null) {
    showCallbackProblems([{ field: "at", message: t("callback_when_incomplete") }]);
    return;
  }
  showCallbackProblems([]);
  const forMe = form.elements.for.value === "me";
  const body = {
    queue: ticket.queue,
    number: form.elements.number.value.trim(),
    at,
    agent: forMe ? me : undefined,
    note: form.elements.note.value.trim(),
    ticket: ticket.number,
  };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const made = await api("/callbacks", { method: "POST", body });
    done.dataset.id = made.id;
    done.textContent = `${t("callback_scheduled")}: ${made.id} · ${new Date((made.not_before ?? made.place) * 1000).toLocaleString()}`;
  } catch (error) {
    const named = error.body && error.body.errors && error.body.errors.length ? error.body.errors : null;
    // A 409 is a callback pending for this number in the queue already: the number's problem.
    const field = error.status === 409 ? "number" : "";
    showCallbackProblems(named || [{ field, message: error.message }]);
  } finally {
    button.disabled = false;
  }
});

byId("log-in").addEventListener("click", () => run("log_in", `${agentPath}/login`));
byId("log-out").addEventListener("click", () => run("log_out", `${agentPath}/logout`));
byId("ready").addEventListener("click", () => run("ready", `${agentPath}/ready`));
byId("not-ready").addEventListener("click", () => run("not_ready", `${agentPath}/not-ready`, { reason: byId("reason").value }));
byId("hold").addEventListener("click", () => run("hold", callPath("/hold")));
byId("unhold").addEventListener("click", () => run("unhold", callPath("/unhold")));
byId("hang-up").addEventListener("click", () => run("hang_up", callPath("/hangup")));
byId("transfer").addEventListener("click", () =>
  run("transfer", callPath("/transfer"), { [byId("target-kind").value]: byId("target").value.trim() }));
byId("consult").addEventListener("click", () => {
  const kind = byId("target-kind").value === "destination" ? "destination" : "agent";
  run("consult", callPath("/consult"), { [kind]: byId("target").value.trim() });
});
byId("consult-complete").addEventListener("click", () => run("complete_transfer", callPath("/consult/complete")));
byId("consult-cancel").addEventListener("click", () => run("cancel_consult", callPath("/consult/cancel")));
byId("conference").addEventListener("click", () => run("conference", callPath("/consult/conference")));

setInterval(() => {
  if (agent) byId("me-since").textContent = duration(now() - agent.since);
  tickCountdown();
}, 1000);

async function loop() {
  try {
    await refresh();
  } catch (error) {
    notice(`${t("failed")}: ${error.message}`);
  }
  setTimeout(loop, 1000);
}
loop();
loadRecordings().catch(() => {});
