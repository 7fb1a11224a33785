  // ---- the programming models -----------------------------------------------------

  let handler = null; // {model, fn|object}
  let outcome = null;
  let current = null; // the request being handled

  function settle(value) { if (outcome === null) outcome = value; }
  function succeed(result) { settle({ ok: true, result }); }
  function fail(error) { settle({ ok: false, error: errorRecord(error, "guest_error") }); }

  function load(loaded, isModule, config) {
    let exported;
    if (isModule) {
      exported = loaded.default !== undefined ? loaded.default : loaded;
    } else {
      const module = { exports: {} };
      const require = (name) => { throw new Error("require('" + name + "') is not supported: wasmtask functions are single files"); };
      const returned = loaded.call(module.exports, module, module.exports, require);
      exported = returned !== undefined ? returned : module.exports;
      if (exported && typeof exported === "object" && typeof exported.default !== "undefined" && typeof exported.fetch !== "function") exported = exported.default;
    }
    if (exported && typeof exported === "object" && typeof exported.fetch === "function") handler = { model: "workers", target: exported };
    else if (typeof exported === "function") {
      const models = { 0: "webtask-promise", 1: "webtask-cb", 2: "webtask-ctx-cb", 3: "webtask-ctx-req-res" };
      handler = { model: models[exported.length] || "webtask-ctx-req-res", target: exported };
    } else {
      throw new TypeError("the code exports no handler: expected `return function (cb) {...}`, `module.exports = function (ctx, cb) {...}`, or `export default { fetch(request, env, ctx) {...} }`");
    }
    return JSON.stringify({ ok: true, model: handler.model });
  }

  function parseContextBody(request) {
    const contents = bodyFromWire(request);
    if (contents === null) return undefined;
    const text = contents.text !== undefined ? contents.text : native.utf8Decode(contents.bytes, false);
    const type = String((request.headers || {})["content-type"] || "").toLowerCase();
    if (type.startsWith("application/json") || type.endsWith("+json")) { try { return JSON.parse(text); } catch (e) { return text; } }
    if (type.startsWith("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
    return text;
  }

  // The request object is fresh per call (parsed from the host's JSON), so its
  // parts are handed over without copies; ctx.data is built only when read.
  function webtaskContext(request) {
    const secrets = request.secrets || {};
    const query = request.query || {};
    const ctx = {
      query, secrets, meta: request.meta || {},
      headers: request.headers || {},
      body: request.body === undefined && request.body_base64 === undefined ? undefined : parseContextBody(request),
      body_raw: request.body === undefined ? null : request.body,
      method: request.method, path: request.path, url: request.url,
      id: request.request_id,
    };
    let data;
    Object.defineProperty(ctx, "data", {
      get() { if (data === undefined) data = Object.assign({}, query, secrets); return data; },
      set(value) { data = value; },
      enumerable: true, configurable: true,
    });
    return ctx;
  }

  function webtaskResponse() {
    const state = { status: 200, headers: new Headers(), chunks: [], ended: false };
    const res = {
      get statusCode() { return state.status; },
      set statusCode(v) { state.status = Number(v); },
      get headersSent() { return state.ended; },
      get writableEnded() { return state.ended; },
      setHeader(name, value) { if (Array.isArray(value)) { state.headers.delete(name); for (const v of value) state.headers.append(name, v); } else state.headers.set(name, value); return res; },
      getHeader(name) { return state.headers.get(name); },
      removeHeader(name) { state.headers.delete(name); },
      writeHead(status, reason, headers) {
        state.status = Number(status);
        if (typeof reason === "object" && reason !== null) headers = reason;
        if (headers) for (const k of Object.keys(headers)) res.setHeader(k, headers[k]);
        return res;
      },
      write(chunk) { if (chunk !== undefined && chunk !== null) state.chunks.push(toBytes(chunk)); return true; },
      end(chunk) {
        if (state.ended) return res;
        res.write(chunk);
        state.ended = true;
        let total = 0;
        for (const c of state.chunks) total += c.length;
        const bytes = new Uint8Array(total);
        let at = 0;
        for (const c of state.chunks) { bytes.set(c, at); at += c.length; }
        const response = new Response(null, { status: Math.min(Math.max(state.status, 200), 599), headers: state.headers });
        response._status = state.status;
        response._contents = total ? { bytes } : null;
        succeed(responseResult(response));
        return res;
      },
      on() { return res; }, once() { return res; },
    };
    return res;
  }

  function webtaskRequest(request, ctx) {
    const listeners = { data: [], end: [] };
    let scheduled = false;
    const req = {
      method: request.method, url: request.path + (request.url && request.url.includes("?") ? request.url.slice(request.url.indexOf("?")) : ""),
      headers: ctx.headers, query: ctx.query, body: ctx.body,
      on(event, fn) {
        if (listeners[event]) listeners[event].push(fn);
        if (!scheduled) {
          scheduled = true;
          Promise.resolve().then(() => {
            const raw = bodyFromWire(request);
            if (raw !== null) for (const f of listeners.data) f(raw.text !== undefined ? raw.text : raw.bytes);
            for (const f of listeners.end) f();
          });
        }
        return req;
      },
      setEncoding() { return req; },
    };
    req.once = req.on;
    return req;
  }

  function responseResult(response) {
    const out = { type: "response", status: response._status, headers: Array.from(response.headers) };
    return wireBody(response._contents, out);
  }

  function jsonResult(value) {
    if (value instanceof Response) return responseResult(value);
    return { type: "json", value: value === undefined ? null : value };
  }

  function callbackFor() {
    return function cb(err, value) {
      if (err !== undefined && err !== null) fail(err);
      else succeed(jsonResult(value));
    };
  }

  function watch(returned) {
    if (returned && typeof returned.then === "function") {
      returned.then((value) => { if (value !== undefined) succeed(jsonResult(value)); }, fail);
    }
  }

  function dispatch(request) {
    outcome = null;
    current = request;
    if (handler === null) { fail(new Error("no code loaded")); return; }
    try {
      if (handler.model === "workers") {
        const contents = bodyFromWire(request);
        const hasBody = contents !== null && request.method !== "GET" && request.method !== "HEAD";
        const workerRequest = requestFromHost(request, hasBody ? contents : null);
        const env = Object.assign({}, request.env || {}, request.secrets || {});
        const waiting = [];
        const ctx = { waitUntil(p) { waiting.push(Promise.resolve(p).catch(() => {})); }, passThroughOnException() {} };
        Promise.resolve()
          .then(() => handler.target.fetch(workerRequest, env, ctx))
          .then((value) => {
            if (!(value instanceof Response)) throw new TypeError("fetch handler must return a Response, got " + (value === null ? "null" : typeof value));
            succeed(responseResult(value));
          }, fail)
          .catch(fail);
        return;
      }
      const ctx = webtaskContext(request);
      let returned;
      switch (handler.model) {
        case "webtask-promise": returned = handler.target.call(ctx); watch(returned); if (!(returned && typeof returned.then === "function")) succeed(jsonResult(returned)); break;
        case "webtask-cb": returned = handler.target.call(ctx, callbackFor()); watch(returned); break;
        case "webtask-ctx-cb": returned = handler.target(ctx, callbackFor()); watch(returned); break;
        default: returned = handler.target(ctx, webtaskRequest(request, ctx), webtaskResponse()); watch(returned); break;
      }
    } catch (e) {
      fail(e);
    }
  }

  function finish() {
    if (outcome === null && runNextTimer()) return ""; // run jobs, then ask again
    const result = outcome !== null ? outcome : {
      ok: false,
      error: { code: "guest_error", name: "Error", message: "the handler never completed: it did not call back, return a value, or settle its promise", stack: "" },
    };
    try {
      return JSON.stringify(result);
    } catch (e) {
      return JSON.stringify({ ok: false, error: { code: "guest_error", name: e.name, message: "the result is not JSON-serializable: " + e.message, stack: "" } });
    }
  }
