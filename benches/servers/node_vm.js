// Node peer: evaluates the Workers module in a fresh vm context per request.
// Usage: node node_vm.js HELLO_JS PORT
"use strict";
const http = require("http");
const vm = require("vm");
const { workerScript } = require("./worker_source");

const script = workerScript(process.argv[2]);
const port = Number(process.argv[3]);

const server = http.createServer(async (req, res) => {
  try {
    const context = { Request, Response, Headers, URL, console };
    vm.runInNewContext(script, context);
    const response = await context.worker.fetch(new Request(`http://127.0.0.1:${port}${req.url}`, { method: req.method }));
    const body = Buffer.from(await response.text());
    res.writeHead(response.status, { ...Object.fromEntries(response.headers), "content-length": body.length });
    res.end(body);
  } catch (error) {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(error && error.stack || error));
  }
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
