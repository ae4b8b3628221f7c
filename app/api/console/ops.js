// The operations console: reads /readyz, /metrics and the admin API of this worker,
// with the credentials the browser was given for /ops. No framework, no build step.
"use strict";

const WINDOW_MS = 5 * 60 * 1000;
const REFRESH_MS = 5000;
// Histograms kept over the window: the metric, its label, and each value's objective (seconds).
const FLOW_LATENCY = "distgate_flow_latency_seconds";
const ROUTE_LATENCY = "distgate_http_request_seconds";
const HISTOGRAMS = [
  [FLOW_LATENCY, "flow", {}],  // each flow's objective is its distgate_flow_sla_seconds
  [ROUTE_LATENCY, "route", {"/v1/atp/{sku}": 0.1, "/v1/atp/check": 0.1, "/v1/orders": 0.5}],
];
// Every flow, always listed, in the order an order lives them.
const FLOWS = [
  ["wms_to_atp", "WMS \u2192 ATP"],
  ["order_to_reserved", "order \u2192 reserved"],
  ["erp_decision_wait", "ERP decision wait"],
  ["order_to_released", "order \u2192 released"],
  ["release_to_ship", "release \u2192 pick \u2192 ship"],
];
const history = [];  // [{at, buckets: {key: {le: count}}}], newest last
let letterFilter = {};  // {source, reason} of the dead letters listed; {} lists all
let shownLetters = "";
let shownChips = "";  // what the list shows now: it is rebuilt only when that changes
const replayed = new Map();  // letter id -> [outcome, ok]: kept across refreshes

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);  // never innerHTML: data is text
  if (className) node.className = className;
  return node;
}

function fillRows(section, rows) {
  const body = document.querySelector(`#${section} tbody`);
  body.replaceChildren(...rows.map((cells) => {
    const row = el("tr");
    for (const cell of cells) row.append(cell instanceof Node ? cell : el("td", cell));
    return row;
  }));
}

async function getJson(path, options) {
  const response = await fetch(path, {credentials: "same-origin", ...options});
  const body = await response.json().catch(() => ({}));
  return {status: response.status, body};
}

function parseMetrics(text) {
  const samples = [];
  const line = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /(\w+)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split("\n")) {
    const match = raw.startsWith("#") ? null : line.exec(raw);
    if (!match) continue;
    const labels = {};
    for (const [, key, value] of (match[2] || "").matchAll(label)) labels[key] = value;
    samples.push({name: match[1], labels, value: Number(match[3])});
  }
  return samples;
}

function sumBy(samples, name, label) {
  const sums = new Map();
  for (const s of samples.filter((s) => s.name === name)) {
    sums.set(s.labels[label], (sums.get(s.labels[label]) || 0) + s.value);
  }
  return [...sums.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

function snapshotBuckets(samples) {
  const buckets = {};
  for (const [name, label] of HISTOGRAMS) {
    for (const s of samples.filter((s) => s.name === `${name}_bucket`)) {
      const key = `${name}|${s.labels[label]}`;
      (buckets[key] ||= {})[s.labels.le] = s.value;
    }
  }
  return buckets;
}

// Prometheus' histogram_quantile over the counts that arrived in the window.
function quantile(q, deltas) {
  const bounds = Object.keys(deltas).map((le) => [le === "+Inf" ? Infinity : Number(le), deltas[le]])
    .sort((a, b) => a[0] - b[0]);
  const total = bounds.length ? bounds[bounds.length - 1][1] : 0;
  if (!total) return null;
  const rank = q * total;
  let [lower, below] = [0, 0];
  for (const [bound, count] of bounds) {
    if (count >= rank) {
      if (bound === Infinity) return lower;
      return lower + (bound - lower) * ((rank - below) / Math.max(count - below, 1e-9));
    }
    [lower, below] = [bound, count];
  }
  return lower;
}

function forgetOldSnapshots(now) {
  while (history.length > 1 && now - history[0].at > WINDOW_MS) history.shift();
}

// The bucket counts of one histogram series that arrived in the window (all of them, until
// the page has a second snapshot to count from).
function windowCounts(key) {
  const [first, last] = [history[0], history[history.length - 1]];
  const before = (history.length > 1 && first.buckets[key]) || {};
  return Object.fromEntries(Object.entries(last.buckets[key] || {})
    .map(([le, c]) => [le, c - (before[le] || 0)]));
}

function latencyRows() {
  const rows = [];
  const objectives = HISTOGRAMS.find(([n]) => n === ROUTE_LATENCY)[2];
  for (const key of Object.keys(history[history.length - 1].buckets)) {
    const [name, value] = key.split("|");
    if (name !== ROUTE_LATENCY) continue;
    const deltas = windowCounts(key);
    const requests = deltas["+Inf"] || 0;
    if (!requests) continue;
    const objective = objectives[value];
    const [p50, p99] = [quantile(0.5, deltas), quantile(0.99, deltas)];
    const p99Cell = el("td", ms(p99), objective !== undefined && p99 > objective ? "breach" : "");
    rows.push([value, ms(p50), p99Cell, objective === undefined ? "" : ms(objective), requests]);
  }
  return rows;
}

// One row per flow: p50 and p99 of what ended in the window, against the flow's SLA.
function flowRows(samples) {
  const slas = Object.fromEntries(samples.filter((s) => s.name === "distgate_flow_sla_seconds")
    .map((s) => [s.labels.flow, s.value]));
  return FLOWS.map(([flow, title]) => {
    const deltas = windowCounts(`${FLOW_LATENCY}|${flow}`);
    const ended = deltas["+Inf"] || 0;
    const [p50, p99] = ended ? [quantile(0.5, deltas), quantile(0.99, deltas)] : [null, null];
    const sla = slas[flow];
    const breached = sla !== undefined && p99 !== null && p99 > sla;
    const row = el("tr");
    row.dataset.flow = flow;
    row.append(el("td", title), el("td", duration(p50)), el("td", duration(p99), breached ? "breach" : ""),
               el("td", duration(sla)), el("td", ended, "num"));
    return row;
  });
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return ms(seconds);
  return `${seconds.toFixed(seconds < 10 ? 2 : 0)} s`;
}

function ms(seconds) {
  return seconds === null || seconds === undefined ? "" : `${(seconds * 1000).toFixed(1)} ms`;
}

async function refreshMetrics() {
  const text = await (await fetch("/metrics", {credentials: "same-origin"})).text();
  const samples = parseMetrics(text);
  const now = Date.now();
  history.push({at: now, buckets: snapshotBuckets(samples)});
  forgetOldSnapshots(now);
  document.querySelector("#flows tbody").replaceChildren(...flowRows(samples));
  fillRows("latency", latencyRows());
  fillRows("lag", sumBy(samples, "distgate_consumer_lag", "topic")
    .map(([topic, lag]) => [topic, el("td", lag, "num")]));
  fillRows("pending", sumBy(samples, "distgate_pending_commands", "warehouse")
    .map(([warehouse, count]) => [warehouse, el("td", count, "num")]));
  const reasons = samples.filter((s) => s.name === "distgate_dead_letters_total" && s.value > 0);
  const chips = JSON.stringify([letterFilter, reasons.map((s) => [s.labels, s.value])]);
  if (chips === shownChips) return;
  shownChips = chips;
  document.getElementById("reasons").replaceChildren(
    filterChip("all", {}), ...reasons.map((s) => filterChip(
      `${s.labels.source} ${s.labels.reason}: ${s.value}`,
      {source: s.labels.source, reason: s.labels.reason})));
}

function filterChip(text, filter) {
  const chip = el("button", text, JSON.stringify(filter) === JSON.stringify(letterFilter) ? "chosen" : "");
  if (filter.reason) chip.dataset.reason = filter.reason;
  chip.addEventListener("click", () => { letterFilter = filter; refresh(); });
  return chip;
}

async function refreshReadiness() {
  const {status, body} = await getJson("/readyz");
  const badge = document.getElementById("ready");
  badge.textContent = status === 200 ? "ready" : (body.status || `HTTP ${status}`);
  badge.className = `badge ${status === 200 ? "ok" : "bad"}`;
}

async function refreshLetters() {
  const query = new URLSearchParams({limit: "100", ...letterFilter});
  const {status, body} = await getJson(`/v1/admin/dead-letters?${query}`);
  if (status !== 200) {
    fillRows("letters", [[`could not list dead letters: ${body.detail || status}`]]);
    return;
  }
  const shown = JSON.stringify([letterFilter, body.dead_letters.map((l) => l.id)]);
  if (shown === shownLetters) return;  // a button under the operator's pointer stays put
  shownLetters = shown;
  fillRows("letters", body.dead_letters.map((letter) => [
    new Date(letter.at).toLocaleString(), letter.source, letter.origin, letter.reason,
    letter.error, replayCell(letter.id),
  ]));
}

function replayCell(id) {
  const cell = el("td");
  cell.dataset.letter = id;
  if (replayed.has(id)) {
    showOutcome(cell, ...replayed.get(id));
    return cell;
  }
  const button = el("button", "Replay");
  button.dataset.letter = id;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const {status, body} = await getJson(`/v1/admin/dead-letters/${encodeURIComponent(id)}/replay`,
                                         {method: "POST"});
    const ok = status === 202;
    replayed.set(id, [ok ? `sent again to ${body.target}` : `not replayed: ${body.detail || status}`, ok]);
    showOutcome(cell, ...replayed.get(id));
  });
  cell.append(button);
  return cell;
}

function showOutcome(cell, text, ok) {
  cell.replaceChildren(el("span", text, ok ? "replayed" : "breach"));
}

async function findOrder(event) {
  event.preventDefault();
  const id = document.getElementById("order-id").value.trim();
  const out = document.getElementById("order");
  const {status, body} = await getJson(`/v1/orders/${encodeURIComponent(id)}`);
  if (status !== 200) {
    // not an order (or not one this token may read): perhaps a correlation id
    const shown = await showTrace(id);
    out.replaceChildren(shown ? "" : el("p", `${id}: ${body.detail || `HTTP ${status}`}`, "breach"));
    return;
  }
  const lines = el("table");
  lines.append(el("tr"));
  lines.firstChild.append(...["line", "sku", "qty", "status", "warehouse"].map((h) => el("th", h)));
  for (const line of body.lines || []) {
    const row = el("tr");
    row.append(...[line.line_no, line.sku, line.qty, line.status, line.warehouse ?? ""].map((v) => el("td", v)));
    lines.append(row);
  }
  out.replaceChildren(el("p", `${body.order_id}: ${body.status}`, "order-status"), lines,
                      el("pre", JSON.stringify(body, null, 2)));
  await showTrace(body.correlation_id);
}

// The flow's messages in time order (GET /v1/admin/trace/{id}); false when none is known.
async function showTrace(correlationId) {
  const out = document.getElementById("trace");
  const {status, body} = await getJson(`/v1/admin/trace/${encodeURIComponent(correlationId)}`);
  if (status !== 200) {
    out.replaceChildren(el("p", `trace ${correlationId}: ${body.detail || `HTTP ${status}`}`, "breach"));
    return false;
  }
  const table = el("table");
  table.append(el("tr"));
  table.firstChild.append(...["at", "kind", "type", "where", "key"].map((h) => el("th", h)));
  for (const m of body.messages) {
    const row = el("tr");
    const where = `${m.topic}/${m.partition}@${m.offset}`;
    row.append(...[m.at, m.kind, m.type ?? m.reason ?? "", where, m.key ?? ""].map((v) => el("td", v)));
    table.append(row);
  }
  const title = `trace ${body.correlation_id} (trace id ${body.trace_id}): ` +
    `${body.messages.length} messages${body.truncated ? ", more not kept" : ""}`;
  out.replaceChildren(el("p", title, "trace-title"), table);
  return true;
}

async function refresh() {
  const results = await Promise.allSettled([refreshReadiness(), refreshMetrics(), refreshLetters()]);
  const failed = results.filter((r) => r.status === "rejected").length;
  document.getElementById("updated").textContent =
    `updated ${new Date().toLocaleTimeString()}${failed ? ` (${failed} part(s) failed)` : ""}`;
}

document.getElementById("find").addEventListener("submit", findOrder);
refresh();
setInterval(refresh, REFRESH_MS);
