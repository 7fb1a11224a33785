// The embed demo page's driver: reads #url=&tenant=&name=&token= and creates one editor.
function main() {
  const params = new URLSearchParams(location.hash.slice(1));
  const meta = document.querySelector('meta[name="wasmtask-api"]');
  const target = document.getElementById("embed");
  if (!params.get("token")) {
    target.textContent = "Pass #tenant=...&name=...&token=... in the address (a token for that one function: "
      + "wasmtask token issue -t TENANT --function NAME).";
    return;
  }
  window.demoEditor = window.WasmtaskEditor.create(target, {
    url: params.get("url") || (meta && meta.content), token: params.get("token"),
    tenant: params.get("tenant") || "demo", name: params.get("name") || "hello", template: params.get("template") || "worker",
  });
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main); else main();
