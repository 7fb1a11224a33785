  // ---- the programming models -----------------------------------------------------

  let handler = null; // {model, fn|object}
  let outcome = null;
  let current = null; // the request being handled

  function settle(value) { if (outcome === null) outcome = value; }
  function succeed(result) { settle({ ok: true, result }); }
  function fail(error) { settle({ ok: false, error: errorRecord(error, "guest_error") }); }

  // Lazy modules a function's source names are compiled at deploy, into its snapshot,
  // rather than in each call that uses them (35-webidl.js). A miss costs time, not
  // correctness: the module then loads in the call. The host reads the source for the
  // names (isolates/javascript.py, lazy_module_hints: regexes over a bundle cost the
  // guest ~5,000 fuel a byte) and passes what it found in the init config.
  const LAZY_MODULES = { streams: streamsModule, blob: blobModule, clone: cloneModule, http: httpModule,
                         fetch: fetchModule, events: eventsModule, storage: storageModule };
  let storageBindings = false; // ctx.storage and env.KV (75-storage.js): for sources that name them
  function preloadLazyModules(hints, model) {
    if (!hints || typeof hints !== "object") return;
    for (const name of Array.isArray(hints.modules) ? hints.modules : []) {
      const load = LAZY_MODULES[name];
      if (typeof load === "function") load();
      if (name === "storage") storageBindings = true;
    }
    // a Workers handler's request.body or response.body is a stream (webtask's ctx.body, req.body are values)
    if (model === "workers" && hints.body === true) streamsModule();
  }

  // Whether a function may read what it is not passed as a parameter: its `this` or its
  // `arguments`, directly or through `eval`, judged from its source text (a word anywhere,
  // comments and strings included, counts). A function without its source (native, bound,
  // a class method printed otherwise) may.
  const functionSource = Function.prototype.toString;
  const IMPLICIT_READS = /\b(this|arguments|eval)\b|\[native code\]/;
  function mayReadImplicitly(fn) {
    let source;
    try { source = functionSource.call(fn); } catch (e) { return true; }
    return typeof source !== "string" || IMPLICIT_READS.test(source);
  }

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
    if (exported && typeof exported === "object" && typeof exported.fetch === "function") {
      // fetch() declaring no parameter, and reading no `arguments`, is given none: no Request to build
      handler = { model: "workers", target: exported, needsArguments: exported.fetch.length > 0 || mayReadImplicitly(exported.fetch) };
    } else if (typeof exported === "function") {
      const models = { 0: "webtask-promise", 1: "webtask-cb", 2: "webtask-ctx-cb", 3: "webtask-ctx-req-res" };
      handler = { model: models[exported.length] || "webtask-ctx-req-res", target: exported, needsArguments: true };
      // `function (cb)` and `function ()` get the context as `this`: built only for code that can read it
      handler.needsThis = exported.length >= 2 || mayReadImplicitly(exported);
    } else {
      throw new TypeError("the code exports no handler: expected `return function (cb) {...}`, `module.exports = function (ctx, cb) {...}`, or `export default { fetch(request, env, ctx) {...} }`");
    }
    preloadLazyModules(config && config.hints, handler.model);
    if (handler.model === "workers" || handler.model === "webtask-ctx-req-res") httpModule(); // their every call uses it
    settleLazyGlobals();
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
      body: (request.body === undefined || request.body === null) && request.body_base64 === undefined ? undefined : parseContextBody(request),
      body_raw: request.body === undefined ? null : request.body,
      method: request.method, path: request.path, url: request.url,
      id: request.request_id,
    };
    if (storageBindings) ctx.storage = storageModule().storage;
    if (native.isEmptyObject(query) && native.isEmptyObject(secrets)) { ctx.data = {}; return ctx; }
    let data;
    Object.defineProperty(ctx, "data", {
      get() { if (data === undefined) data = Object.assign({}, query, secrets); return data; },
      set(value) { data = value; },
      enumerable: true, configurable: true,
    });
    return ctx;
  }

  function webtaskResponse() {
    const http = httpModule();
    const state = { status: 200, headers: new http.Headers(), chunks: [], ended: false };
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
        const bytes = concatBytes(state.chunks.length ? state.chunks : [new Uint8Array(0)], total);
        succeed({ type: "response", status: state.status, headers: http.headersRecord(state.headers).list, ...wireBody(total ? { bytes } : null, {}) });
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

  // A Response as the call's result; a streamed body is read to the end first
  // (the ABI returns a whole body: a stream is collected within the output cap).
  function settleResponse(response) {
    const result = httpModule().responseResult(response);
    if (typeof result.then === "function") upon(result, succeed, fail);
    else succeed(result);
  }

  function settleValue(value) {
    if (isResponseValue(value)) settleResponse(value);
    else succeed({ type: "json", value: value === undefined ? null : value });
  }

  function callbackFor() {
    return function cb(err, value) {
      if (err !== undefined && err !== null) fail(err);
      else { try { settleValue(value); } catch (e) { fail(e); } }
    };
  }

  function watch(returned) {
    if (returned && typeof returned.then === "function") {
      returned.then((value) => { if (value !== undefined) settleValue(value); }, fail);
    }
  }

  // A Workers handler's ctx: its methods on the prototype, as in workerd (nothing to build per call)
  class ExecutionContext {
    waitUntil(promise) { Promise.resolve(promise).catch(() => {}); }
    passThroughOnException() {}
  }

  function workersArguments(request) {
    const contents = bodyFromWire(request);
    const hasBody = contents !== null && request.method !== "GET" && request.method !== "HEAD";
    const workerRequest = httpModule().requestFromHost(request, hasBody ? contents : null);
    const env = storageBindings || request.env !== undefined || request.secrets !== undefined
      ? Object.assign(storageBindings ? { KV: storageModule().kv } : {}, request.env || {}, request.secrets || {}) : {};
    return [workerRequest, env, new ExecutionContext()];
  }

  function settleWorkersValue(value) {
    if (!isResponseValue(value)) throw new TypeError("fetch handler must return a Response, got " + (value === null ? "null" : typeof value));
    settleResponse(value);
  }

  function dispatch(request) {
    outcome = null;
    current = request;
    if (handler === null) { fail(new Error("no code loaded")); return; }
    try {
      if (handler.model === "workers") {
        // called now (a thrown error fails the call like a rejection); a promise is awaited
        const args = handler.needsArguments ? workersArguments(request) : null;
        const returned = args === null ? handler.target.fetch() : handler.target.fetch(args[0], args[1], args[2]);
        if (returned !== null && (typeof returned === "object" || typeof returned === "function") && typeof returned.then === "function") {
          Promise.resolve(returned).then(settleWorkersValue, fail).catch(fail);
        } else settleWorkersValue(returned);
        return;
      }
      const ctx = handler.needsThis === false ? undefined : webtaskContext(request);
      let returned;
      switch (handler.model) {
        case "webtask-promise": returned = handler.target.call(ctx); watch(returned); if (!(returned && typeof returned.then === "function")) settleValue(returned); break;
        case "webtask-cb": returned = handler.target.call(ctx, callbackFor()); watch(returned); break;
        case "webtask-ctx-cb": returned = handler.target(ctx, callbackFor()); watch(returned); break;
        default: returned = handler.target(ctx, webtaskRequest(request, ctx), webtaskResponse()); watch(returned); break;
      }
    } catch (e) {
      fail(e);
    }
  }

  // The reply's JSON, its envelope written out and its strings quoted natively: JSON.stringify
  // sets up ~10,000 fuel of machinery per call (a wrapper object, a walk of each object's keys),
  // where a hello's whole reply is a few short strings.
  const stringify = JSON.stringify;
  const quote = native.jsonQuote;
  function replyText(result) {
    const r = result.ok === true ? result.result : null;
    if (r !== null && r.type === "json") {
      let value = typeof r.value === "string" ? quote(r.value) : native.plainJson(r.value);
      if (value === undefined) value = stringify(r.value); // not plain data (or undefined within)
      if (value !== undefined) return '{"ok":true,"result":{"type":"json","value":' + value + "}}";
    } else if (r !== null && r.type === "response") {
      // the prelude's own records (webtaskResponse, responseResult): an integer status (else JSON's
      // text for it), a list of string pairs, a string body or body_base64, or neither
      const base64 = typeof r.body_base64 === "string";
      if ((r.status | 0) === r.status && (base64 || typeof r.body === "string" || r.body === null)) {
        return native.responseReply(r.status, r.headers, base64 ? r.body_base64 : r.body, base64);
      }
    }
    return stringify(result);
  }

  // Out of memory ends the call as memory_limit wherever it strikes: in a promise
  // job (whose error may never reach a handler, so the outcome stays empty) or while
  // the result is serialized.
  const OUT_OF_MEMORY = { code: "memory_limit", name: "InternalError", message: "out of memory", stack: "" };
  function finish() {
    if (outcome === null && runNextTimer()) return ""; // run jobs, then ask again
    let result = outcome;
    outcome = null;
    if (result === null) {
      result = { ok: false, error: native.allocationFailures() > 0 ? OUT_OF_MEMORY : {
        code: "guest_error", name: "Error", message: "the handler never completed: it did not call back, return a value, or settle its promise", stack: "" } };
    }
    try {
      return replyText(result);
    } catch (e) {
      result = null; // let the collector take the result back
      if (isOutOfMemory(e) || native.allocationFailures() > 0) return JSON.stringify({ ok: false, error: OUT_OF_MEMORY });
      return JSON.stringify({ ok: false, error: { code: "guest_error", name: e.name, message: "the result is not JSON-serializable: " + e.message, stack: "" } });
    }
  }

  preludeReady = true;
