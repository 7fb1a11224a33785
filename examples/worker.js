// Workers style: export default { fetch(request, env, ctx) }
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const who = url.searchParams.get("name") ?? "world";
    return Response.json({ message: `Hello, ${who}!`, method: request.method, path: url.pathname });
  },
};
