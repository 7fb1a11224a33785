// The wasmtask console: sign in, list functions, edit/deploy/run, live logs, settings, versions, charts.
// Everything a guest or a user controls is put on the page as text (dom.js), never parsed as HTML.
import { Api } from "./api.js";
import { h, append, clear, replace, when } from "./dom.js";
import { createEditor } from "./editor.js";
import { TEMPLATES } from "./templates.js";
import { diffLines } from "./diff.js";
import { sparkline } from "./charts.js";

const SESSION_KEY = "wasmtask-console";
const MAX_LOG_LINES = 500;

function apiUrl() {
  const meta = document.querySelector('meta[name="wasmtask-api"]');
  return (meta && meta.content) || location.origin;
}

function loadSession() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null"); } catch { return null; }
}

function saveSession(session) {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

function signIn(root) {
  const url = h("input", { id: "signin-url", name: "url", value: apiUrl(), required: true });
  const tenant = h("input", { id: "signin-tenant", name: "tenant", value: "demo", required: true, autocomplete: "off" });
  const token = h("input", { id: "signin-token", name: "token", type: "password", required: true, autocomplete: "off" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "signin", onsubmit: async (event) => {
    event.preventDefault();
    const api = new Api(url.value, token.value.trim());
    try {
      await api.functions(tenant.value.trim());
      const session = { url: url.value, tenant: tenant.value.trim(), token: token.value.trim() };
      saveSession(session);
      start(root, session);
    } catch (e) {
      replace(error, `Sign-in failed: ${e.code}: ${e.message}`);
    }
  } },
    h("h1", {}, "wasmtask console"),
    h("label", { for: "signin-url" }, "Gateway API"), url,
    h("label", { for: "signin-tenant" }, "Tenant"), tenant,
    h("label", { for: "signin-token" }, "Token (a tenant token or the admin key; kept in this tab only)"), token,
    h("button", { type: "submit", id: "signin-submit" }, "Sign in"),
    error);
  replace(root, form);
  tenant.focus();
}

function start(root, session) {
  const api = new Api(session.url, session.token);
  const tenant = session.tenant;
  const state = { current: null, meta: null, stats: {}, functions: [] };
  const status = h("p", { id: "status", class: "status", role: "status", "aria-live": "polite" });
  const say = (text, kind = "") => { status.className = `status ${kind}`; replace(status, text); };

  // ---- the functions list ----
  const fnTable = h("tbody", { id: "functions" });
  const newName = h("input", { id: "new-name", placeholder: "name", "aria-label": "new function name" });
  const newTemplate = h("select", { id: "new-template", "aria-label": "template" },
    Object.entries(TEMPLATES).map(([key, t]) => h("option", { value: key }, t.label)));
  const sidebar = h("aside", { class: "sidebar" },
    h("h2", {}, "Functions"),
    h("table", { class: "functions" },
      h("thead", {}, h("tr", {}, ["name", "lang", "ver", "deployed", "calls/h", "errors/h"].map((c) => h("th", { scope: "col" }, c)))),
      fnTable),
    h("p", { class: "hint" }, "Calls and errors: the tenant's live log as seen by the worker that answers (every worker's calls with Redis)."),
    h("form", { class: "new", onsubmit: (e) => { e.preventDefault(); newFunction(); } },
      h("h3", {}, "New function"), newName, newTemplate, h("button", { type: "submit", id: "new-create" }, "Create")));

  // ---- editor + request builder + response ----
  const editorHost = h("div", { class: "editor", id: "editor" });
  const editor = createEditor(editorHost, { doc: "", onSave: () => deploy(), onRun: () => run() });
  const title = h("h2", { id: "fn-title" }, "No function selected");
  const method = h("select", { id: "req-method", "aria-label": "method" },
    ["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => h("option", { value: m }, m)));
  const path = h("input", { id: "req-path", placeholder: "/path", "aria-label": "path" });
  const query = h("input", { id: "req-query", placeholder: "name=ada&x=1", "aria-label": "query" });
  const headers = h("textarea", { id: "req-headers", rows: 2, placeholder: "content-type: application/json", "aria-label": "headers" });
  const body = h("textarea", { id: "req-body", rows: 3, placeholder: "request body", "aria-label": "body" });
  const response = h("div", { id: "response", class: "response" }, "Ctrl/Cmd-Enter runs the deployed function.");
  const editorTab = h("section", { class: "tab", id: "tab-editor" },
    h("div", { class: "toolbar" },
      h("button", { id: "deploy", onclick: () => deploy(), title: "Ctrl/Cmd-S" }, "Deploy"),
      h("button", { id: "run", onclick: () => run(), title: "Ctrl/Cmd-Enter" }, "Run")),
    editorHost,
    h("div", { class: "builder" },
      h("h3", {}, "Request"), h("div", { class: "row" }, method, path, query), headers, body),
    h("h3", {}, "Response"), response);

  // ---- settings: secrets, env, allowed hosts, limits ----
  const secretList = h("ul", { id: "secrets" });
  const secretName = h("input", { id: "secret-name", placeholder: "NAME", "aria-label": "secret name" });
  const secretValue = h("input", { id: "secret-value", type: "password", placeholder: "value", "aria-label": "secret value", autocomplete: "off" });
  const envText = h("textarea", { id: "env", rows: 4, "aria-label": "env (KEY=value per line)" });
  const hostsText = h("textarea", { id: "allowed-hosts", rows: 3, "aria-label": "allowed hosts (one per line)" });
  const limitsText = h("textarea", { id: "limits", rows: 7, "aria-label": "limits (JSON)" });
  const settingsTab = h("section", { class: "tab", id: "tab-settings", hidden: true },
    h("h3", {}, "Secrets (values are never shown again)"), secretList,
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); setSecret(); } },
      secretName, secretValue, h("button", { type: "submit", id: "secret-set" }, "Set / replace")),
    h("h3", {}, "Environment (KEY=value per line)"), envText,
    h("h3", {}, "Allowed hosts for fetch (one per line)"), hostsText,
    h("h3", {}, "Limits"), limitsText,
    h("button", { id: "settings-save", onclick: () => saveSettings() }, "Deploy with these settings"));

  // ---- versions ----
  const versionList = h("tbody", { id: "versions" });
  const diffView = h("pre", { id: "diff", class: "diff" });
  const versionsTab = h("section", { class: "tab", id: "tab-versions", hidden: true },
    h("table", { class: "versions" }, h("thead", {}, h("tr", {}, ["version", "created", "note", "", ""].map((c) => h("th", {}, c)))), versionList),
    diffView);

  // ---- charts ----
  const chartsBox = h("div", { id: "charts", class: "charts" });
  const chartsTab = h("section", { class: "tab", id: "tab-charts", hidden: true }, chartsBox);

  const tabs = { editor: editorTab, settings: settingsTab, versions: versionsTab, charts: chartsTab };
  const tabButtons = Object.keys(tabs).map((key) => h("button", { role: "tab", id: `tabbtn-${key}`, onclick: () => show(key) }, key));
  function show(key) {
    for (const [k, el] of Object.entries(tabs)) el.hidden = k !== key;
    for (const b of tabButtons) b.setAttribute("aria-selected", String(b.id === `tabbtn-${key}`));
    if (key === "versions") loadVersions();
    if (key === "charts") renderCharts();
    if (key === "settings") loadSettings();
  }

  // ---- live logs ----
  const logFn = h("input", { id: "log-function", placeholder: "function", "aria-label": "filter by function" });
  const logLevel = h("select", { id: "log-level", "aria-label": "minimum level" },
    ["debug", "info", "warn", "error"].map((l) => h("option", { value: l, selected: l === "info" }, l)));
  const logBox = h("ol", { id: "logs", class: "logs", "aria-live": "off" });
  const records = [];
  const LEVELS = { debug: 0, log: 1, info: 1, warn: 2, warning: 2, error: 3 };
  const visible = (r) => (!logFn.value || r.function === logFn.value.trim())
    && (LEVELS[r.level] ?? 1) >= LEVELS[logLevel.value];
  const logLine = (r) => h("li", { class: `log ${String(r.level || "")}` },
    h("span", { class: "t" }, when(r.time).slice(11)), " ", h("span", { class: "lvl" }, String(r.level || "")), " ",
    h("span", { class: "fn" }, String(r.function || "")), " ", h("span", { class: "msg" }, String(r.msg ?? "")));
  function redrawLogs() { replace(logBox, records.filter(visible).map(logLine)); logBox.scrollTop = logBox.scrollHeight; }
  logFn.addEventListener("input", redrawLogs);
  logLevel.addEventListener("change", redrawLogs);
  const logsPanel = h("section", { class: "logs-panel" },
    h("h2", {}, "Live logs"), h("div", { class: "row" }, logFn, logLevel,
      h("button", { onclick: () => { records.length = 0; redrawLogs(); } }, "Clear")), logBox);

  const main = h("main", { class: "main" }, title, h("nav", { role: "tablist", class: "tabs" }, tabButtons), status,
    ...Object.values(tabs));
  const header = h("header", { class: "top" }, h("strong", {}, "wasmtask"), " console · tenant ", h("span", { id: "tenant" }, tenant),
    h("button", { id: "signout", onclick: () => { saveSession(null); controller.abort(); signIn(root); } }, "Sign out"));
  replace(root, header, h("div", { class: "layout" }, sidebar, main, logsPanel));
  show("editor");

  const controller = new AbortController();
  (async function follow() {
    while (!controller.signal.aborted) {
      try {
        await api.tail(tenant, (record) => {
          records.push(record);
          if (records.length > MAX_LOG_LINES) records.shift();
          if (visible(record)) { logBox.append(logLine(record)); logBox.scrollTop = logBox.scrollHeight; }
          if (record.event === "invocation_end" || record.event === "deploy") scheduleRefresh();
        }, controller.signal);
      } catch (e) {
        if (controller.signal.aborted) return;
        say(`live log: ${e.message}; reconnecting`, "error");
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();

  let refreshTimer = null;
  function scheduleRefresh() { clearTimeout(refreshTimer); refreshTimer = setTimeout(refreshList, 500); }

  async function refreshList() {
    try {
      const [list, stats] = await Promise.all([api.functions(tenant), api.stats(tenant).catch(() => ({ functions: {} }))]);
      state.functions = list.functions;
      state.stats = stats.functions || {};
      replace(fnTable, list.functions.map((f) => {
        const s = state.stats[f.name] || {};
        return h("tr", { class: f.name === state.current ? "selected" : "" },
          h("td", {}, h("button", { class: "link", "data-name": f.name, onclick: () => open(f.name) }, f.name)),
          h("td", {}, f.language), h("td", {}, f.version), h("td", {}, when(f.updated_at || f.created_at)),
          h("td", { class: "num" }, String(s.calls ?? 0)), h("td", { class: "num" }, String(s.errors ?? 0)));
      }));
      if (!tabs.charts.hidden) renderCharts();
    } catch (e) { say(`${e.code}: ${e.message}`, "error"); }
  }

  function showTitle() {
    const meta = state.meta || {};
    replace(title, `${state.current} `, h("small", {}, `${meta.language || ""} · ${meta.version || ""}`));
  }

  async function open(name, version) {
    try {
      const src = await api.source(tenant, name, version);
      const { code: _code, code_base64: _b64, ...meta } = src;
      state.current = name; state.meta = meta;
      showTitle();
      editor.set(src.code ?? "(a binary module: not editable here)", meta.language);
      logFn.value = name; redrawLogs();
      say(`opened ${name} ${meta.version}`);
      refreshList();
      if (!tabs.settings.hidden) loadSettings();
      if (!tabs.versions.hidden) loadVersions();
    } catch (e) { say(`${e.code}: ${e.message}`, "error"); }
  }

  function newFunction() {
    const name = newName.value.trim();
    if (!name) { say("name the new function", "error"); newName.focus(); return; }
    const template = TEMPLATES[newTemplate.value];
    state.current = name;
    state.meta = { name, language: template.language, filename: template.filename, version: "(not deployed)" };
    replace(title, `${name} `, h("small", {}, `${template.language} · not deployed yet: Ctrl/Cmd-S deploys`));
    editor.set(template.code, template.language);
    logFn.value = name; redrawLogs();
    show("editor");
    editor.focus();
  }

  async function deploy(extra) {
    if (!state.current) { say("open or create a function first", "error"); return; }
    const meta = state.meta || {};
    const spec = { code: editor.doc, language: meta.language || "javascript" };
    if (meta.filename) spec.filename = meta.filename;
    for (const key of ["env", "allowed_hosts", "limits"]) if (meta[key] !== undefined) spec[key] = meta[key];
    Object.assign(spec, extra || {});
    say(`deploying ${state.current}...`);
    try {
      const deployed = await api.deploy(tenant, state.current, spec);
      state.meta = deployed;
      editor.clearError();
      showTitle();
      say(`deployed ${state.current} ${deployed.version} (prepared in ${deployed.deploy?.prepare_ms ?? "?"} ms)`, "ok");
      refreshList();
      return deployed;
    } catch (e) {
      const where = e.location ? ` at ${e.location.file}:${e.location.line}:${e.location.column ?? ""}` : "";
      say(`deploy failed: ${e.code}: ${e.message}${where}`, "error");
      editor.showError(e.location, `${e.code}: ${e.message}`);
      return null;
    }
  }

  function parseHeaders(text) {
    const out = {};
    for (const line of text.split("\n")) {
      const cut = line.indexOf(":");
      if (cut > 0) out[line.slice(0, cut).trim()] = line.slice(cut + 1).trim();
    }
    return out;
  }

  async function run() {
    if (!state.current) { say("open or create a function first", "error"); return; }
    say(`calling ${state.current}...`);
    try {
      const r = await api.invoke(tenant, state.current, { method: method.value, path: path.value, query: query.value,
                                                          headers: parseHeaders(headers.value), body: body.value });
      const logs = (r.logs && r.logs.records) || [];
      replace(response,
        h("p", { id: "resp-status", class: r.status < 400 ? "ok" : "error" },
          `${r.status} · ${r.duration_ms} ms · fuel ${r.fuel_used ?? "?"}`),
        h("details", {}, h("summary", {}, "headers"),
          h("pre", { id: "resp-headers" }, r.headers.map(([k, v]) => `${k}: ${v}`).join("\n"))),
        h("pre", { id: "resp-body" }, r.body ?? `(binary, ${atob(r.body_base64).length} bytes)`),
        h("h4", {}, "This call's logs"),
        h("ol", { id: "resp-logs", class: "logs" }, logs.map(logLine)));
      say(`called ${state.current}: ${r.status}`, r.status < 400 ? "ok" : "error");
      const error = tryJson(r.body)?.error;
      if (error && error.location) editor.showError(error.location, `${error.code}: ${error.message}`);
    } catch (e) { say(`run failed: ${e.code}: ${e.message}`, "error"); }
  }

  async function loadSettings() {
    if (!state.current || !state.meta || !state.meta.limits) { clear(secretList); return; }
    const meta = state.meta;
    envText.value = Object.entries(meta.env || {}).map(([k, v]) => `${k}=${v}`).join("\n");
    hostsText.value = (meta.allowed_hosts || []).join("\n");
    limitsText.value = JSON.stringify(meta.limits || {}, null, 1);
    try {
      const s = await api.secrets(tenant, state.current);
      replace(secretList, s.secrets.length ? s.secrets.map((name) => h("li", {}, h("code", {}, name), " ",
        h("button", { class: "link", onclick: () => deleteSecret(name) }, "remove"))) : h("li", {}, "(none)"));
    } catch (e) { say(`${e.code}: ${e.message}`, "error"); }
  }

  async function setSecret() {
    if (!state.current) return;
    try {
      const v = await api.putSecret(tenant, state.current, secretName.value.trim(), secretValue.value);
      state.meta = v;
      showTitle();
      secretValue.value = "";
      say(`secret ${secretName.value.trim()} set: ${v.version}`, "ok");
      loadSettings();
    } catch (e) { say(`${e.code}: ${e.message}`, "error"); }
  }

  async function deleteSecret(name) {
    try {
      state.meta = await api.deleteSecret(tenant, state.current, name);
      showTitle();
      say(`secret ${name} removed`, "ok");
      loadSettings();
    } catch (e) { say(`${e.code}: ${e.message}`, "error"); }
  }

  async function saveSettings() {
    let limits;
    try { limits = JSON.parse(limitsText.value || "{}"); } catch (e) { say(`limits: ${e.message}`, "error"); return; }
    const env = {};
    for (const line of envText.value.split("\n")) {
      const cut = line.indexOf("=");
      if (cut > 0) env[line.slice(0, cut).trim()] = line.slice(cut + 1);
    }
    const allowed = hostsText.value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (await deploy({ env, allowed_hosts: allowed, limits })) loadSettings();
  }

  async function loadVersions() {
    if (!state.current || !state.meta?.limits) { clear(versionList); return; }
    try {
      const { versions } = await api.versions(tenant, state.current);
      const current = state.meta.version;
      replace(versionList, versions.slice().reverse().map((v) => {
        const id = v.version;
        return h("tr", { class: id === current ? "selected" : "" },
          h("td", {}, id), h("td", {}, when(v.created_at)), h("td", {}, v.note || ""),
          h("td", {}, h("button", { class: "link", "data-diff": id, onclick: () => diff(id) }, "diff with current")),
          h("td", {}, id === current ? "current" : h("button", { "data-rollback": id, onclick: () => rollback(id) }, "roll back")));
      }));
    } catch (e) { say(`${e.code}: ${e.message}`, "error"); }
  }

  async function diff(version) {
    try {
      const [old, now] = await Promise.all([api.source(tenant, state.current, version), api.source(tenant, state.current)]);
      replace(diffView, diffLines(old.code || "", now.code || "").map(([op, line]) =>
        h("span", { class: op === "+" ? "add" : op === "-" ? "del" : "same" }, `${op} ${line}\n`)));
      say(`diff ${version} -> ${now.version}`);
    } catch (e) { say(`${e.code}: ${e.message}`, "error"); }
  }

  async function rollback(version) {
    try {
      const v = await api.rollback(tenant, state.current, version);
      await open(state.current);
      say(`rolled back to ${v.rolled_back_to}: now ${v.version}`, "ok");
    } catch (e) { say(`rollback failed: ${e.code}: ${e.message}`, "error"); }
  }

  function renderCharts() {
    const names = state.current ? [state.current] : Object.keys(state.stats);
    replace(chartsBox, h("p", { class: "hint" }, "Last hour, per minute, from the tenant's live log as followed by the answering worker since it was first asked."),
      names.map((name) => {
        const s = state.stats[name];
        if (!s) return h("p", {}, `${name}: no calls seen yet`);
        const series = s.series || [];
        const metric = (label, key, fmt = (x) => x) => h("figure", { class: "chart" },
          sparkline(series.map((p) => p[key] ?? 0), label), h("figcaption", {}, `${label}: ${fmt(latest(series, key))}`));
        return h("div", { class: "chart-row" }, h("h3", {}, name,
          h("small", {}, ` ${s.calls} calls · ${s.errors} errors · p50 ${fmtMs(s.p50_ms)} · p99 ${fmtMs(s.p99_ms)} · fuel p50 ${s.fuel_p50 ?? "-"}`)),
          metric("calls/min", "calls"), metric("errors/min", "errors"), metric("p50 ms", "p50_ms", fmtMs),
          metric("p99 ms", "p99_ms", fmtMs), metric("fuel p50", "fuel_p50"));
      }));
  }

  refreshList();
  editor.focus();
}

function latest(series, key) { return series.length ? series[series.length - 1][key] ?? "-" : "-"; }
function fmtMs(x) { return x === null || x === undefined || x === "-" ? "-" : `${Number(x).toFixed(2)} ms`; }
function tryJson(text) { try { return JSON.parse(text); } catch { return null; } }

function main() {
  const root = document.getElementById("app");
  if (!root) return;  // the embed demo page: embed.js drives it
  const session = loadSession();
  if (session) start(root, session); else signIn(root);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main); else main();

