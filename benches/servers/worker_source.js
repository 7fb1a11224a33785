// Shared by node_vm.js and node_spawn.js: the Workers module as a script that
// sets globalThis.worker, so plain Node can evaluate the very same source.
"use strict";
const fs = require("fs");

function workerScript(path) {
  const source = fs.readFileSync(path, "utf8");
  if (!/export\s+default/.test(source)) throw new Error(`${path}: no 'export default'`);
  return source.replace(/export\s+default/, "globalThis.worker =");
}

module.exports = { workerScript };
