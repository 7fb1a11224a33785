// The embeddable editor: <script src="https://CONSOLE/embed.js"></script>, then
//   WasmtaskEditor.create(element, {url, token, tenant, name, template, cspNonce})
// (cspNonce: the host page's style nonce, if its CSP needs one for CodeMirror's <style> element;
// token: a token narrowed to this one function, `wasmtask token issue -t TENANT --function NAME`,
// so the page can read, deploy, run and tail that function and nothing else of the tenant)
// gives a page an editor for one function (one extension point): load, deploy (Ctrl/Cmd-S),
// run (Ctrl/Cmd-Enter), the response and the call's logs, all rendered as text.
import { Api } from "./api.js";
import { h, replace } from "./dom.js";
import { createEditor } from "./editor.js";
import { TEMPLATES } from "./templates.js";

function create(element, options) {
  const { url, token, tenant, name } = options || {};
  if (!element || !url || !token || !tenant || !name) throw new TypeError("WasmtaskEditor.create(element, {url, token, tenant, name})");
  const api = new Api(url, token);
  const template = TEMPLATES[options.template || "worker"] || TEMPLATES.worker;
  let meta = { language: template.language, filename: template.filename };
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const output = h("pre", { class: "wt-output" });
  const host = h("div", { class: "editor wt-editor" });
  const say = (text, kind = "") => { status.className = `status ${kind}`; replace(status, text); };
  const editor = createEditor(host, { doc: template.code, language: template.language, label: `${name} code`, cspNonce: options.cspNonce,
                                      onSave: () => deploy(), onRun: () => run() });
  replace(element, h("div", { class: "wasmtask-embed" },
    h("div", { class: "toolbar" }, h("strong", {}, name), " ",
      h("button", { class: "wt-deploy", onclick: () => deploy() }, "Deploy"),
      h("button", { class: "wt-run", onclick: () => run() }, "Run")),
    host, status, output));

  async function load() {
    try {
      const src = await api.source(tenant, name);
      const { code: _code, code_base64: _b64, ...m } = src;
      meta = m;
      editor.set(src.code ?? "", m.language);
      say(`${name} ${m.version}`);
    } catch (e) {
      say(e.code === "not_found" ? `${name} is not deployed yet: Ctrl/Cmd-S deploys it`
          : e.code === "forbidden" ? `refused: ${e.message}` : `${e.code}: ${e.message}`,
          e.code === "not_found" ? "" : "error");
    }
  }

  async function deploy() {
    const spec = { code: editor.doc, language: meta.language || "javascript" };
    if (meta.filename) spec.filename = meta.filename;
    try {
      meta = await api.deploy(tenant, name, spec);
      editor.clearError();
      say(`deployed ${meta.version}`, "ok");
    } catch (e) {
      say(`deploy failed: ${e.code}: ${e.message}`, "error");
      editor.showError(e.location, `${e.code}: ${e.message}`);
    }
  }

  async function run(call) {
    try {
      const r = await api.invoke(tenant, name, call || { method: "GET" });
      const lines = ((r.logs && r.logs.records) || []).map((l) => `[${l.level}] ${l.msg}`);
      replace(output, `${r.status} (${r.duration_ms} ms)\n${r.body ?? ""}\n${lines.join("\n")}`);
      say(`called: ${r.status}`, r.status < 400 ? "ok" : "error");
      return r;
    } catch (e) { say(`run failed: ${e.code}: ${e.message}`, "error"); return null; }
  }

  load();
  return { deploy, run, get code() { return editor.doc; }, set code(text) { editor.set(text); }, focus: () => editor.focus() };
}

window.WasmtaskEditor = { create };
