// webtask: function (ctx, cb) -- ctx.query, ctx.body, ctx.headers, ctx.secrets, ctx.meta
module.exports = function (ctx, cb) {
  const name = ctx.query.name || "stranger";
  console.log("greeting", name);
  cb(null, { greeting: `Hello, ${name}`, method: ctx.method, body: ctx.body || null });
};
