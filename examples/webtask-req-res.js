// webtask: function (ctx, req, res) -- full control over the HTTP response
module.exports = function (ctx, req, res) {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<h1>Hello from ${req.method} ${req.url}</h1>`);
};
