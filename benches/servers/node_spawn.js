// Node peer: spawns `node -e` per request; the child evaluates the Workers
// module, calls fetch and prints the body. A child whose client went away is killed.
// Usage: node node_spawn.js HELLO_JS PORT
"use strict";
const http = require("http");
const { execFile } = require("child_process");
const { workerScript } = require("./worker_source");

const port = Number(process.argv[3]);
const program = workerScript(process.argv[2]) + `
(async () => {
  const response = await globalThis.worker.fetch(new Request(process.argv[1]));
  process.stdout.write(await response.text());
})().catch((error) => { console.error(error); process.exit(1); });
`;

const server = http.createServer((req, res) => {
  const url = `http://127.0.0.1:${port}${req.url}`;
  const child = execFile(process.execPath, ["-e", program, url], (error, stdout, stderr) => {
    if (res.writableEnded || res.destroyed) return;
    if (error) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(stderr || String(error));
      return;
    }
    const body = Buffer.from(stdout);
    res.writeHead(200, { "content-type": "text/plain;charset=UTF-8", "content-length": body.length });
    res.end(body);
  });
  res.on("close", () => { if (child.exitCode === null) child.kill("SIGKILL"); });
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
