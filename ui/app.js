// waggle's web UI: one page, no build step, no dependencies. Everything it shows comes from
// the agent's /api/* routes (src/cli/ui_routes.hpp); the page's state lives in its URL hash
// (#flows&status=404), so that a view can be linked and reloaded.
"use strict";

const MAX_EVENTS = 5000;   // kept in the page for the flows and processes views
const REFRESH_MS = 2000;

const state = { page: "map", params: new URLSearchParams(), events: [], after: 0, dropped: 0 };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function setStatus(text) { document.getElementById("status").textContent = text; }

function ms(v) { return v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`; }

// --- navigation ------------------------------------------------------------------------

function readHash() {
  const [page, ...rest] = location.hash.replace(/^#/, "").split("&");
  state.page = page || "map";
  state.params = new URLSearchParams(rest.join("&"));
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.page === state.page);
  for (const s of document.querySelectorAll(".page")) s.classList.toggle("active", s.id === "page-" + state.page);
  if (state.page === "flows")
    for (const input of document.querySelectorAll("#flow-filters [data-filter]"))
      input.value = state.params.get(input.dataset.filter) || "";
  // #flamegraph&seconds=N[&pid=P]: a link that profiles at once.
  if (state.page === "flamegraph" && state.params.get("seconds")) {
    document.getElementById("flame-seconds").value = state.params.get("seconds");
    document.getElementById("flame-pid").value = state.params.get("pid") || "";
    profile();
  }
  refresh();
}

function writeFlowFilters() {
  const params = new URLSearchParams();
  for (const input of document.querySelectorAll("#flow-filters [data-filter]"))
    if (input.value) params.set(input.dataset.filter, input.value);
  const hash = "#flows" + (params.toString() ? "&" + params.toString() : "");
  if (location.hash !== hash) history.replaceState(null, "", hash);
  state.params = params;
  renderFlows();
}

// --- events (flows and processes) ------------------------------------------------------

async function pullEvents() {
  const r = await getJson(`/api/events?after=${state.after}&limit=${MAX_EVENTS}`);
  state.dropped += r.dropped;
  state.after = r.last;
  state.events.push(...r.events);
  if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
}

function serviceOf(p) {
  if (!p) return "unknown";
  if (p.binary) return p.binary.slice(p.binary.lastIndexOf("/") + 1);
  return p.comm || "unknown";
}

function ports(e) {
  const out = [];
  for (const k of ["local", "remote", "server", "src", "dst"]) if (e[k] && e[k].port !== undefined) out.push(e[k].port);
  return out;
}

// What observe's filters test, on one event (docs/observe.md).
function matches(e, f) {
  if (f.get("type") && e.type !== f.get("type")) return false;
  const p = e.process;
  if (f.get("process")) {
    const want = f.get("process");
    if (!p || (p.comm !== want && serviceOf(p) !== want)) return false;
  }
  if (f.get("pid") && (!p || String(p.pid) !== f.get("pid"))) return false;
  if (f.get("container") && (!p || !p.container_id || !p.container_id.startsWith(f.get("container")))) return false;
  if (f.get("port") && !ports(e).map(String).includes(f.get("port"))) return false;
  if (f.get("status") && String(e.status) !== f.get("status")) return false;
  if (f.get("verdict") && e.verdict !== f.get("verdict") && e.action !== f.get("verdict")) return false;
  if (f.get("text") && !JSON.stringify(e).includes(f.get("text"))) return false;
  return true;
}

function endpoint(x) { return x ? `${x.address}:${x.port}` : "?"; }

function summary(e) {
  switch (e.type) {
    case "http.request":
      return `${e.role} ${e.method} ${e.target || e.route} → ${e.status} (${ms(e.duration_ns / 1e6)}) ${endpoint(e.remote)}`;
    case "network.tcp":
      return `${e.direction} ${endpoint(e.local)} ↔ ${endpoint(e.remote)} ${e.end}, ${e.bytes_sent} B sent, ${e.bytes_received} B received`;
    case "dns.query":
      return `${e.name} ${e.query_type} → ${e.rcode || "no answer"} ${(e.answers || []).join(", ")}`;
    case "policy.match":
      return `${e.policy || ""}/${e.rule || ""} ${e.action || e.verdict || ""}`;
    case "process.exec":
      return (e.process && e.process.args ? e.process.args.join(" ") : "");
    case "process.exit":
      return e.signal ? `signal ${e.signal}` : `exit ${e.exit_code}`;
    case "file.open":
      return `${e.path || ""} ${e.flags ? e.flags.join("|") : ""}`;
    default:
      return JSON.stringify(e).slice(0, 160);
  }
}

function eventRow(e, withProcess) {
  const tr = el("tr", { "data-type": e.type });
  if (e.status !== undefined) tr.setAttribute("data-status", e.status);
  tr.append(el("td", {}, (e.time || "").replace("T", " ").slice(0, 23)), el("td", {}, e.type));
  if (withProcess) tr.append(el("td", {}, e.process ? `${serviceOf(e.process)} (${e.process.pid})` : "-"));
  tr.append(el("td", {}, summary(e)));
  return tr;
}

function renderFlows() {
  const body = document.querySelector("#flows tbody");
  const shown = state.events.filter((e) => matches(e, state.params)).reverse().slice(0, 1000);
  body.replaceChildren(...shown.map((e) => eventRow(e, true)));
  document.getElementById("flow-count").textContent =
      `${shown.length} shown of ${state.events.length} recent events` + (state.dropped ? `, ${state.dropped} dropped before read` : "");
}

function renderProcesses() {
  const execs = state.events.filter((e) => e.type === "process.exec" && e.process);
  const byExec = new Map(execs.map((e) => [e.process.exec_id, e]));
  const children = new Map();
  const roots = [];
  for (const e of execs) {
    const parent = e.parent && e.parent.exec_id;
    if (parent && byExec.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(e);
    } else {
      roots.push(e);
    }
  }
  const selected = state.params.get("pid");
  const item = (e) => {
    const li = el("li", { "data-pid": e.process.pid },
                  el("span", {}, `${serviceOf(e.process)} (${e.process.pid}) ${(e.process.args || []).join(" ").slice(0, 80)}`));
    if (String(e.process.pid) === selected) li.classList.add("selected");
    li.firstChild.addEventListener("click", () => { location.hash = `#processes&pid=${e.process.pid}`; });
    const kids = children.get(e.process.exec_id);
    if (kids) li.append(el("ul", {}, ...kids.map(item)));
    return li;
  };
  document.getElementById("process-tree").replaceChildren(...roots.map(item));
  const title = document.getElementById("process-title");
  const body = document.querySelector("#process-events tbody");
  if (!selected) {
    title.textContent = "";
    body.replaceChildren();
    return;
  }
  const own = state.events.filter((e) => e.process && String(e.process.pid) === selected).reverse();
  title.textContent = `Events of ${selected} (${own.length})`;
  body.replaceChildren(...own.map((e) => eventRow(e, false)));
}

// --- service map ------------------------------------------------------------------------

function layout(nodes, edges) {
  // Columns by distance from the sources (a caller left of whom it calls).
  const depth = new Map(nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < nodes.length; pass++)
    for (const e of edges)
      if (e.from !== e.to && depth.get(e.to) <= depth.get(e.from)) depth.set(e.to, depth.get(e.from) + 1);
  const columns = new Map();
  for (const n of nodes) {
    const d = Math.min(depth.get(n.id), 6);
    if (!columns.has(d)) columns.set(d, []);
    columns.get(d).push(n);
  }
  // Column by column, each node next to the mean height of its callers: fewer crossings.
  const pos = new Map();
  for (const d of [...columns.keys()].sort((a, b) => a - b)) {
    const list = columns.get(d);
    const meanY = (n) => {
      const ys = edges.filter((e) => e.to === n.id && pos.has(e.from)).map((e) => pos.get(e.from).y);
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
    };
    if (d > 0) list.sort((a, b) => meanY(a) - meanY(b));
    list.forEach((n, i) => pos.set(n.id, { x: 40 + d * 460, y: 40 + i * 90 }));
  }
  return pos;
}

function edgeLabel(e) {
  const parts = [];
  if (e.http) parts.push(`${e.http.requests} req · ${e.http.rate.toFixed(2)}/s · ${(e.http.error_rate * 100).toFixed(1)}% 5xx · p99 ${ms(e.http.p99_ms)}`);
  if (e.tcp) parts.push(`${e.tcp.connections} TCP`);
  return parts.join(" · ");
}

async function renderMap() {
  const windowS = document.getElementById("map-window").value;
  const m = await getJson(`/api/services?window=${windowS}`);
  document.getElementById("map-covered").textContent = `covering the last ${Math.round(m.window_s)} s`;
  const pos = layout(m.nodes, m.edges);
  const root = document.getElementById("map");
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "8", markerHeight: "8", orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#3b6fd8" }));
  defs.append(marker);
  const items = [defs];
  const W = 200, H = 44;
  const label = new Map(m.nodes.map((n) => [n.id, n.label]));
  for (const e of m.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    const g = svg("g", { class: "edge", "data-from": label.get(e.from), "data-to": label.get(e.to),
                         "data-requests": e.http ? e.http.requests : 0, "data-connections": e.tcp ? e.tcp.connections : 0 });
    if (e.http && e.http.errors > 0) g.classList.add("errors");
    if (!e.http) g.classList.add("tcp-only");
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    g.append(svg("path", { d: `M${x1},${y1} C${x1 + 60},${y1} ${x2 - 60},${y2} ${x2},${y2}` }));
    const t = svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, "text-anchor": "middle" });
    t.textContent = edgeLabel(e);
    g.append(t);
    items.push(g);
  }
  for (const n of m.nodes) {
    const p = pos.get(n.id);
    const g = svg("g", { class: `node ${n.kind}`, "data-id": n.id, "data-label": n.label, transform: `translate(${p.x},${p.y})` });
    g.append(svg("rect", { width: W, height: H, rx: 6 }));
    const t = svg("text", { x: 8, y: 18 });
    t.textContent = n.label + (n.names.length ? ` (${n.names.join(", ")})` : "");
    const s = svg("text", { x: 8, y: 36 });
    s.textContent = n.requests ? `served ${n.requests}, p99 ${ms(n.p99_ms)}` : n.kind;
    g.append(t, s);
    items.push(g);
  }
  root.replaceChildren(...items);
  const rows = m.edges.map((e) => el("tr", { "data-from": label.get(e.from), "data-to": label.get(e.to) },
      el("td", {}, label.get(e.from)), el("td", {}, label.get(e.to)),
      el("td", { class: "num" }, e.http ? e.http.requests : "-"),
      el("td", { class: "num" }, e.http ? `${e.http.rate.toFixed(2)}/s` : "-"),
      el("td", { class: "num" }, e.http ? `${e.http.errors} (${(e.http.error_rate * 100).toFixed(1)}%)` : "-"),
      el("td", { class: "num" }, e.http ? e.http.client_errors : "-"),
      el("td", { class: "num" }, e.http ? ms(e.http.p50_ms) : "-"),
      el("td", { class: "num" }, e.http ? ms(e.http.p99_ms) : "-"),
      el("td", { class: "num" }, e.tcp ? e.tcp.connections : "-")));
  document.querySelector("#map-edges tbody").replaceChildren(...rows);
}

// --- policies, health, flame graph -----------------------------------------------------

async function renderPolicies() {
  const r = await getJson("/api/policies");
  const rows = [];
  for (const p of r.policies)
    for (const rule of p.rules)
      rows.push(el("tr", { "data-policy": p.name, "data-rule": rule.name },
                   el("td", {}, p.name), el("td", {}, p.mode), el("td", {}, rule.name),
                   el("td", { class: "num" }, rule.matched), el("td", {}, p.source)));
  document.querySelector("#policies tbody").replaceChildren(...rows);
  document.getElementById("policies-note").textContent =
      r.error ? r.error : r.policies.length ? "" : "No policy in force (waggle run --policy FILE, or waggle policy apply).";
}

async function renderHealth() {
  const r = await getJson("/api/health");
  const out = [];
  for (const f of r.families) {
    if (!f.series.length) continue;
    const keys = [...new Set(f.series.flatMap((s) => Object.keys(s.labels)))];
    const table = el("table", { class: "data", "data-family": f.name },
        el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", {}, k)), el("th", {}, "value"))),
        el("tbody", {}, ...f.series.map((s) => el("tr", {}, ...keys.map((k) => el("td", {}, s.labels[k] ?? "")),
                                                  el("td", { class: "num" }, Number.isInteger(s.value) ? s.value : s.value.toFixed(6))))));
    out.push(el("h2", { title: f.help }, f.name), el("p", { class: "hint" }, f.help), table);
  }
  document.getElementById("health").replaceChildren(...out);
}

function profile() {
  const seconds = document.getElementById("flame-seconds").value || "5";
  const pid = document.getElementById("flame-pid").value;
  const url = `/debug/flamegraph?seconds=${encodeURIComponent(seconds)}` + (pid ? `&pid=${encodeURIComponent(pid)}` : "");
  document.getElementById("flame-status").textContent = `sampling for ${seconds} s...`;
  const frame = el("iframe", { src: url, title: "flame graph" });
  frame.addEventListener("load", () => { document.getElementById("flame-status").textContent = ""; });
  document.getElementById("flame").replaceChildren(frame);
}

// --- refresh loop -----------------------------------------------------------------------

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    if (state.page === "flows" || state.page === "processes") await pullEvents();
    if (state.page === "flows") renderFlows();
    if (state.page === "processes") renderProcesses();
    if (state.page === "map") await renderMap();
    if (state.page === "policies") await renderPolicies();
    if (state.page === "health") await renderHealth();
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset.loaded = state.page;
  } catch (err) {
    setStatus(String(err));
  } finally {
    refreshing = false;
  }
}

window.addEventListener("hashchange", readHash);
document.getElementById("map-window").addEventListener("change", refresh);
document.getElementById("flame-go").addEventListener("click", profile);
for (const input of document.querySelectorAll("#flow-filters [data-filter]"))
  input.addEventListener("input", writeFlowFilters);
setInterval(() => { if (state.page !== "flamegraph") refresh(); }, REFRESH_MS);
readHash();
