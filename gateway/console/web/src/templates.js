// One starting point per programming model (README.md, "Programming models").
export const TEMPLATES = {
  "worker": { label: "Workers: export default { fetch }", language: "javascript", filename: "worker.js", code:
`export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    console.log("hello from", url.pathname);
    return Response.json({ hello: url.searchParams.get("name") || "world" });
  },
};
` },
  "webtask-cb": { label: "webtask: function (cb)", language: "javascript", filename: "webtask.js", code:
`module.exports = function (cb) {
  console.log("called");
  cb(null, { hello: "world" });
};
` },
  "webtask-ctx": { label: "webtask: function (ctx, cb)", language: "javascript", filename: "webtask.js", code:
`module.exports = function (ctx, cb) {
  console.log("query", JSON.stringify(ctx.query));
  cb(null, { hello: ctx.query.name || "world", body: ctx.body });
};
` },
  "webtask-req-res": { label: "webtask: function (ctx, req, res)", language: "javascript", filename: "webtask.js", code:
`module.exports = function (ctx, req, res) {
  console.log(req.method, req.url);
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("hello " + (ctx.query.name || "world"));
};
` },
  "python": { label: "Python: handle(request)", language: "python", filename: "app.py", code:
`def handle(request):
    print("hello")
    return {"hello": "world"}
` },
};
