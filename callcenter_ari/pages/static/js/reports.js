// Reports: the figures of GET /reports/periods (the API's own, per 15 or 30 minutes or per day), as tables, a chart
// and a CSV file made from the same rows.
import { api, el, frame, percent, t } from "./common.js";
import { barChart } from "./chart.js";

frame("reports_title");
const byId = (id) => document.getElementById(id);
byId("day").value = new Date().toISOString().slice(0, 10);

const round = (value) => (value === null || value === undefined ? "" : Math.round(value * 10) / 10);

function label(start, length) {
  const when = new Date(start * 1000);
  return length >= 86400 ? when.toISOString().slice(0, 10) : when.toISOString().slice(11, 16);
}

const QUEUE_COLUMNS = [
  ["queue", (q) => q.id],
  ["offered", (q) => q.entered],
  ["answered", (q) => q.answered],
  ["abandoned", (q) => q.abandoned],
  ["short_abandoned", (q) => q.short_abandoned],
  ["service_level", (q) => percent(q.service_level)],
  ["asa", (q) => round(q.asa)],
  ["aht", (q) => round(q.aht)],
];
const AGENT_COLUMNS = [
  ["agent", (a) => a.id],
  ["calls", (a) => a.calls],
  ["talk", (a) => round(a.talk)],
  ["occupancy", (a) => percent(a.occupancy)],
];

function rows(report) {
  const queues = [];
  const agents = [];
  for (const period of report.periods) {
    const when = label(period.start, report.length);
    for (const [id, figures] of Object.entries(period.queues)) queues.push({ when, id, ...figures });
    for (const [id, figures] of Object.entries(period.agents)) {
      agents.push({ when, id, ...figures, occupancy: period.occupancy[id] });
    }
  }
  return { queues, agents };
}

function table(id, columns, items) {
  const head = el("tr", {}, el("th", { text: t("period") }), ...columns.map(([key]) => el("th", { text: t(key) })));
  byId(id).tHead.replaceChildren(head);
  byId(id).tBodies[0].replaceChildren(
    ...items.map((item) => el("tr", {}, el("td", { text: item.when }), ...columns.map(([, get]) => el("td", { text: get(item) })))),
  );
}

function csvCell(value) {
  const text = String(value ?? "");
  // A cell a spreadsheet would run as a formula is quoted with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function csv(found) {
  const lines = [["kind", "period", ...QUEUE_COLUMNS.map(([k]) => k), ...AGENT_COLUMNS.slice(1).map(([k]) => k)].join(",")];
  for (const q of found.queues) {
    lines.push(["queue", q.when, ...QUEUE_COLUMNS.map(([, get]) => get(q)), "", "", ""].map(csvCell).join(","));
  }
  for (const a of found.agents) {
    lines.push(["agent", a.when, a.id, ...Array(QUEUE_COLUMNS.length - 1).fill(""), ...AGENT_COLUMNS.slice(1).map(([, get]) => get(a))]
      .map(csvCell).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

async function show(event) {
  if (event) event.preventDefault();
  const length = Number(byId("length").value);
  const start = Date.parse(`${byId("day").value}T00:00:00Z`) / 1000;
  try {
    const report = await api(`/reports/periods?start=${start}&end=${start + 86400}&length=${length}`);
    const found = rows(report);
    byId("empty").hidden = report.periods.length > 0;
    table("queues", QUEUE_COLUMNS, found.queues);
    table("agents", AGENT_COLUMNS, found.agents);
    const labels = report.periods.map((p) => label(p.start, length));
    const total = (field) => report.periods.map((p) => Object.values(p.queues).reduce((sum, q) => sum + q[field], 0));
    byId("chart").replaceChildren(barChart(labels, [
      { name: t("offered"), values: total("entered"), className: "offered" },
      { name: t("answered"), values: total("answered"), className: "answered" },
      { name: t("abandoned"), values: total("abandoned"), className: "abandoned" },
    ]));
    const link = byId("csv");
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([csv(found)], { type: "text/csv" }));
    link.download = `report-${byId("day").value}-${length}.csv`;
    link.hidden = false;
  } catch (error) {
    byId("notice").textContent = `${t("failed")}: ${error.message}`;
  }
}

byId("query").addEventListener("submit", show);
show();
