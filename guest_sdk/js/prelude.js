// wasmtask JS prelude: Web APIs and the programming-model dispatcher.
// Evaluated once per runtime by shim.c as a strict global script whose value is
// a factory; shim.c calls it with the native helpers and keeps the returned API
// ({load, dispatch, finish, describeError}). Nothing here is reachable by user
// code except the globals it installs on purpose.
(function (native) {
  "use strict";
  const g = globalThis;
  const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 };

  function define(name, value) {
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  }

  // ---- console --------------------------------------------------------------

  function inspect(value, depth, seen) {
    if (typeof value === "string") return depth === 0 ? value : JSON.stringify(value);
    if (typeof value === "function") return "[Function: " + (value.name || "anonymous") + "]";
    if (typeof value === "bigint") return value + "n";
    if (typeof value === "symbol" || value === undefined || value === null) return String(value);
    if (typeof value !== "object") return String(value);
    if (value instanceof Error) return value.stack ? value.name + ": " + value.message + "\n" + value.stack : String(value);
    if (seen.has(value)) return "[Circular]";
    if (depth > 3) return Array.isArray(value) ? "[Array]" : "[Object]";
    seen.add(value);
    let out;
    try {
      if (Array.isArray(value)) {
        out = "[ " + value.map((v) => inspect(v, depth + 1, seen)).join(", ") + " ]";
        if (value.length === 0) out = "[]";
      } else if (value instanceof Map) {
        out = "Map(" + value.size + ") { " + Array.from(value, ([k, v]) => inspect(k, depth + 1, seen) + " => " + inspect(v, depth + 1, seen)).join(", ") + " }";
      } else if (value instanceof Set) {
        out = "Set(" + value.size + ") { " + Array.from(value, (v) => inspect(v, depth + 1, seen)).join(", ") + " }";
      } else if (value instanceof Date) {
        out = isNaN(value) ? "Invalid Date" : value.toISOString();
      } else if (ArrayBuffer.isView(value)) {
        out = value.constructor.name + "(" + value.length + ") [ " + Array.prototype.slice.call(value, 0, 50).join(", ") + " ]";
      } else {
        const keys = Object.keys(value);
        const body = keys.map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)) + ": " + inspect(value[k], depth + 1, seen));
        const name = value.constructor && value.constructor !== Object && value.constructor.name ? value.constructor.name + " " : "";
        out = body.length ? name + "{ " + body.join(", ") + " }" : name + "{}";
      }
    } finally {
      seen.delete(value);
    }
    return out;
  }

  function format(args) {
    if (args.length === 0) return "";
    let first = args[0];
    let rest = 1;
    let out;
    if (typeof first === "string" && first.includes("%")) {
      out = first.replace(/%[sdifjoO%]/g, (m) => {
        if (m === "%%") return "%";
        if (rest >= args.length) return m;
        const a = args[rest++];
        if (m === "%s") return typeof a === "string" ? a : inspect(a, 1, new Set());
        if (m === "%d" || m === "%i") return String(m === "%i" ? parseInt(a) : Number(a));
        if (m === "%f") return String(parseFloat(a));
        if (m === "%j") { try { return JSON.stringify(a); } catch (e) { return "[Circular]"; } }
        return inspect(a, 1, new Set());
      });
    } else {
      out = inspect(first, 0, new Set());
    }
    for (; rest < args.length; rest++) out += " " + inspect(args[rest], 0, new Set());
    return out;
  }

  function logger(level) {
    return function (...args) { native.log(level, format(args)); };
  }
  const timers = new Map();
  const counts = new Map();
  const consoleObject = {
    log: logger(LEVELS.info), info: logger(LEVELS.info), debug: logger(LEVELS.debug),
    warn: logger(LEVELS.warn), error: logger(LEVELS.error),
    trace(...args) { native.log(LEVELS.debug, format(args) + "\n" + (new Error().stack || "")); },
    assert(condition, ...args) { if (!condition) native.log(LEVELS.error, "Assertion failed" + (args.length ? ": " + format(args) : "")); },
    dir(value) { native.log(LEVELS.info, inspect(value, 0, new Set())); },
    table(value) { native.log(LEVELS.info, inspect(value, 0, new Set())); },
    time(label = "default") { timers.set(label, performance.now()); },
    timeEnd(label = "default") {
      if (timers.has(label)) { native.log(LEVELS.info, label + ": " + (performance.now() - timers.get(label)).toFixed(3) + "ms"); timers.delete(label); }
    },
    count(label = "default") { const n = (counts.get(label) || 0) + 1; counts.set(label, n); native.log(LEVELS.info, label + ": " + n); },
  };
  define("console", consoleObject);

  // ---- encoding ---------------------------------------------------------------

  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(input = "") { return native.utf8Encode(String(input)); }
    encodeInto(input, dest) {
      const bytes = native.utf8Encode(String(input));
      const n = Math.min(bytes.length, dest.length);
      dest.set(bytes.subarray(0, n));
      return { read: n === bytes.length ? String(input).length : undefined, written: n };
    }
  }
  class TextDecoder {
    constructor(label = "utf-8", options = {}) {
      const l = String(label).toLowerCase();
      if (l !== "utf-8" && l !== "utf8" && l !== "unicode-1-1-utf-8") throw new RangeError("TextDecoder: unsupported encoding " + label);
      this.fatal = !!options.fatal;
      this.ignoreBOM = !!options.ignoreBOM;
    }
    get encoding() { return "utf-8"; }
    decode(input) {
      if (input === undefined) return "";
      let s = native.utf8Decode(input, this.fatal);
      if (!this.ignoreBOM && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      return s;
    }
  }
  define("TextEncoder", TextEncoder);
  define("TextDecoder", TextDecoder);

  function toBytes(value) {
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return native.utf8Encode(String(value));
  }

  // ---- crypto ---------------------------------------------------------------

  // native.randomFill throws while the user's top-level code runs (shim.c,
  // in_global_scope): a value drawn then would be frozen into the snapshot.
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const cryptoObject = {
    getRandomValues(array) {
      if (!INTEGER_ARRAYS.some((T) => array instanceof T)) throw new TypeError("getRandomValues: expected an integer TypedArray");
      return native.randomFill(array, "crypto.getRandomValues()");
    },
    randomUUID() {
      const b = native.randomFill(new Uint8Array(16), "crypto.randomUUID()");
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    },
  };
  define("crypto", cryptoObject);

  // ---- structuredClone ------------------------------------------------------------

  function cloneError(message) {
    return typeof DOMException === "function" ? new DOMException(message, "DataCloneError") : new TypeError(message);
  }
  function structuredClone(value, seen = new Map()) {
    if (value === null || (typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol")) return value;
    if (typeof value === "function" || typeof value === "symbol") throw cloneError(String(typeof value === "function" ? value.name || "function" : "symbol") + " could not be cloned.");
    if (seen.has(value)) return seen.get(value);
    let out;
    if (value instanceof Date) out = new Date(value.getTime());
    else if (value instanceof RegExp) out = new RegExp(value.source, value.flags);
    else if (value instanceof ArrayBuffer) out = value.slice(0);
    else if (ArrayBuffer.isView(value)) {
      const buffer = structuredClone(value.buffer, seen);
      out = value instanceof DataView ? new DataView(buffer, value.byteOffset, value.byteLength) : new value.constructor(buffer, value.byteOffset, value.length);
    } else if (value instanceof Map) {
      out = new Map(); seen.set(value, out);
      for (const [k, v] of value) out.set(structuredClone(k, seen), structuredClone(v, seen));
      return out;
    } else if (value instanceof Set) {
      out = new Set(); seen.set(value, out);
      for (const v of value) out.add(structuredClone(v, seen));
      return out;
    } else if (value instanceof Error) {
      const Ctor = [EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].find((C) => value instanceof C) || Error;
      out = new Ctor(value.message);
      if (value.stack !== undefined) out.stack = value.stack;
    } else if (Array.isArray(value)) {
      out = new Array(value.length); seen.set(value, out);
      for (let i = 0; i < value.length; i++) if (i in value) out[i] = structuredClone(value[i], seen);
      return out;
    } else if (value instanceof Boolean || value instanceof Number || value instanceof String) {
      out = Object(value.valueOf());
    } else if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet) {
      throw cloneError(value.constructor.name + " object could not be cloned.");
    } else {
      out = {}; seen.set(value, out);
      for (const k of Object.keys(value)) out[k] = structuredClone(value[k], seen);
      return out;
    }
    seen.set(value, out);
    return out;
  }
  define("structuredClone", (value) => structuredClone(value));

  // ---- timers (virtual time: callbacks run in delay order, without waiting) ---------

  let timerSequence = 0;
  let timerClock = 0;
  const timerQueue = new Map();
  function addTimer(callback, delay, args, repeat) {
    if (typeof callback !== "function") throw new TypeError("timer callback must be a function");
    const id = ++timerSequence;
    const ms = Math.max(0, Number(delay) || 0);
    timerQueue.set(id, { callback, args, at: timerClock + ms, repeat: repeat ? Math.max(1, ms) : 0, id });
    return id;
  }
  define("setTimeout", (callback, delay, ...args) => addTimer(callback, delay, args, false));
  define("setInterval", (callback, delay, ...args) => addTimer(callback, delay, args, true));
  define("clearTimeout", (id) => { timerQueue.delete(id); });
  define("clearInterval", (id) => { timerQueue.delete(id); });
  function runNextTimer() {
    let next = null;
    for (const t of timerQueue.values()) if (!next || t.at < next.at || (t.at === next.at && t.id < next.id)) next = t;
    if (!next) return false;
    timerClock = next.at;
    if (next.repeat) next.at += next.repeat; else timerQueue.delete(next.id);
    next.callback(...next.args);
    return true;
  }

  // ---- URLSearchParams and URL ----------------------------------------------------

  function formEncode(s) {
    return encodeURIComponent(s).replace(/%20/g, "+").replace(/[!'()~]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  }
  function formDecode(s) {
    s = s.replace(/\+/g, " ");
    try { return decodeURIComponent(s); } catch (e) { return s.replace(/%([0-9A-Fa-f]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16))); }
  }
  const paramsOwner = Symbol("owner");
  class URLSearchParams {
    constructor(init = "") {
      this._list = [];
      if (init instanceof URLSearchParams) this._list = init._list.map((p) => p.slice());
      else if (typeof init === "object" && init !== null) {
        if (typeof init[Symbol.iterator] === "function") for (const pair of init) { const [k, v] = Array.from(pair); this._list.push([String(k), String(v)]); }
        else for (const k of Object.keys(init)) this._list.push([k, String(init[k])]);
      } else this._parse(String(init));
    }
    _parse(s) {
      this._list = [];
      if (s.startsWith("?")) s = s.slice(1);
      for (const part of s.split("&")) {
        if (!part) continue;
        const i = part.indexOf("=");
        this._list.push(i < 0 ? [formDecode(part), ""] : [formDecode(part.slice(0, i)), formDecode(part.slice(i + 1))]);
      }
    }
    _changed() { if (this[paramsOwner]) this[paramsOwner]._setSearchFromParams(this.toString()); }
    get size() { return this._list.length; }
    append(k, v) { this._list.push([String(k), String(v)]); this._changed(); }
    delete(k, v) { k = String(k); this._list = this._list.filter(([a, b]) => a !== k || (v !== undefined && b !== String(v))); this._changed(); }
    get(k) { k = String(k); const p = this._list.find(([a]) => a === k); return p ? p[1] : null; }
    getAll(k) { k = String(k); return this._list.filter(([a]) => a === k).map(([, b]) => b); }
    has(k, v) { k = String(k); return this._list.some(([a, b]) => a === k && (v === undefined || b === String(v))); }
    set(k, v) {
      k = String(k); v = String(v);
      const i = this._list.findIndex(([a]) => a === k);
      if (i < 0) this._list.push([k, v]);
      else { this._list[i][1] = v; this._list = this._list.filter(([a], j) => a !== k || j === i); }
      this._changed();
    }
    sort() { this._list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._changed(); }
    forEach(fn, thisArg) { for (const [k, v] of this._list) fn.call(thisArg, v, k, this); }
    *entries() { for (const p of this._list) yield [p[0], p[1]]; }
    *keys() { for (const p of this._list) yield p[0]; }
    *values() { for (const p of this._list) yield p[1]; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this._list.map(([k, v]) => formEncode(k) + "=" + formEncode(v)).join("&"); }
    get [Symbol.toStringTag]() { return "URLSearchParams"; }
  }
  define("URLSearchParams", URLSearchParams);

  const DEFAULT_PORTS = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443", "ftp:": "21" };
  const URL_PATTERN = /^([a-zA-Z][a-zA-Z0-9+.-]*:)(?:\/\/(?:([^:@/?#]*)(?::([^@/?#]*))?@)?(\[[^\]]*\]|[^:/?#]*)(?::([0-9]*))?)?([^?#]*)(\?[^#]*)?(#.*)?$/;

  function removeDotSegments(path) {
    const out = [];
    const segments = path.split("/");
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      if (s === "..") { if (out.length > 1) out.pop(); if (i === segments.length - 1) out.push(""); }
      else if (s === ".") { if (i === segments.length - 1) out.push(""); }
      else out.push(s);
    }
    return out.join("/") || "/";
  }
  function encodePath(p) { return p.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/g, (c) => encodeURIComponent(c)); }
  function encodeQuery(q) { return q.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/g, (c) => encodeURIComponent(c)); }

  class URL {
    constructor(input, base) {
      input = String(input).trim();
      let m = URL_PATTERN.exec(input);
      if (!m || (base === undefined && m[4] === undefined && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(input))) m = null;
      if (!m) {
        if (base === undefined) throw new TypeError("Invalid URL: " + input);
        const b = base instanceof URL ? base : new URL(base);
        let path = b.pathname, search = b.search, hash = "";
        let rest = input;
        const hashAt = rest.indexOf("#");
        if (hashAt >= 0) { hash = rest.slice(hashAt); rest = rest.slice(0, hashAt); }
        if (rest.startsWith("//")) return new URL(b.protocol + input);
        if (rest === "") { /* keep path and query */ }
        else if (rest.startsWith("?")) search = rest;
        else {
          const q = rest.indexOf("?");
          const p = q >= 0 ? rest.slice(0, q) : rest;
          search = q >= 0 ? rest.slice(q) : "";
          path = p.startsWith("/") ? p : path.slice(0, path.lastIndexOf("/") + 1) + p;
        }
        const auth = b.username ? b.username + (b.password ? ":" + b.password : "") + "@" : "";
        m = URL_PATTERN.exec(b.protocol + "//" + auth + b.host + path + search + hash);
        if (!m) throw new TypeError("Invalid URL: " + input);
      }
      this._protocol = m[1].toLowerCase();
      this._username = m[2] || "";
      this._password = m[3] || "";
      this._hostname = (m[4] || "").toLowerCase();
      this._port = m[5] || "";
      if (DEFAULT_PORTS[this._protocol] === this._port) this._port = "";
      const special = this._protocol in DEFAULT_PORTS;
      if (special && !this._hostname) throw new TypeError("Invalid URL: " + input);
      if (this._port && (Number(this._port) > 65535)) throw new TypeError("Invalid URL: " + input);
      let path = (m[6] || "").replace(/\\/g, special ? "/" : "\\");
      if (m[4] !== undefined) path = removeDotSegments(path || "/");
      this._pathname = encodePath(path);
      this._search = m[7] && m[7] !== "?" ? encodeQuery(m[7]) : "";
      this._hash = m[8] && m[8] !== "#" ? m[8] : "";
      this._params = new URLSearchParams(this._search);
      this._params[paramsOwner] = this;
    }
    static canParse(input, base) { try { new URL(input, base); return true; } catch (e) { return false; } }
    static parse(input, base) { try { return new URL(input, base); } catch (e) { return null; } }
    _setSearchFromParams(s) { this._search = s ? "?" + s : ""; }
    get protocol() { return this._protocol; }
    set protocol(v) { v = String(v); this._protocol = (v.endsWith(":") ? v : v + ":").toLowerCase(); }
    get username() { return this._username; }
    set username(v) { this._username = encodeURIComponent(String(v)); }
    get password() { return this._password; }
    set password(v) { this._password = encodeURIComponent(String(v)); }
    get hostname() { return this._hostname; }
    set hostname(v) { this._hostname = String(v).toLowerCase(); }
    get port() { return this._port; }
    set port(v) { v = String(v); this._port = DEFAULT_PORTS[this._protocol] === v ? "" : v; }
    get host() { return this._hostname + (this._port ? ":" + this._port : ""); }
    set host(v) { const [h, p] = String(v).split(":"); this.hostname = h; if (p !== undefined) this.port = p; }
    get origin() { return this._protocol in DEFAULT_PORTS ? this._protocol + "//" + this.host : "null"; }
    get pathname() { return this._pathname; }
    set pathname(v) { v = String(v); this._pathname = encodePath(removeDotSegments(v.startsWith("/") ? v : "/" + v)); }
    get search() { return this._search; }
    set search(v) { v = String(v); this._search = v && v !== "?" ? encodeQuery(v.startsWith("?") ? v : "?" + v) : ""; this._params._list = new URLSearchParams(this._search)._list; }
    get searchParams() { return this._params; }
    get hash() { return this._hash; }
    set hash(v) { v = String(v); this._hash = v && v !== "#" ? (v.startsWith("#") ? v : "#" + v) : ""; }
    get href() {
      const auth = this._username ? this._username + (this._password ? ":" + this._password : "") + "@" : "";
      return this._protocol + "//" + auth + this.host + this._pathname + this._search + this._hash;
    }
    set href(v) { const u = new URL(v); Object.assign(this, u); this._params[paramsOwner] = this; }
    toString() { return this.href; }
    toJSON() { return this.href; }
    get [Symbol.toStringTag]() { return "URL"; }
  }
  define("URL", URL);

  // ---- Headers, Body, Request, Response ---------------------------------------------

  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  function headerName(name) {
    name = String(name);
    if (!TOKEN.test(name)) throw new TypeError("Invalid header name: " + name);
    return name.toLowerCase();
  }
  function headerValue(value) {
    value = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
    if (/[\0\r\n]/.test(value)) throw new TypeError("Invalid header value");
    return value;
  }
  class Headers {
    constructor(init) {
      this._map = new Map(); // lower name -> [values]
      if (init instanceof Headers) for (const [k, v] of init._map) this._map.set(k, v.slice());
      else if (Array.isArray(init) || (init && typeof init[Symbol.iterator] === "function")) for (const pair of init) { const p = Array.from(pair); if (p.length !== 2) throw new TypeError("Header pairs must have two items"); this.append(p[0], p[1]); }
      else if (init && typeof init === "object") for (const k of Object.keys(init)) this.append(k, init[k]);
    }
    append(name, value) { name = headerName(name); value = headerValue(value); const list = this._map.get(name); if (list) list.push(value); else this._map.set(name, [value]); }
    set(name, value) { this._map.set(headerName(name), [headerValue(value)]); }
    get(name) { const list = this._map.get(headerName(name)); return list ? list.join(", ") : null; }
    getSetCookie() { return (this._map.get("set-cookie") || []).slice(); }
    has(name) { return this._map.has(headerName(name)); }
    delete(name) { this._map.delete(headerName(name)); }
    forEach(fn, thisArg) { for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this); }
    *entries() {
      for (const k of Array.from(this._map.keys()).sort()) {
        if (k === "set-cookie") for (const v of this._map.get(k)) yield [k, v];
        else yield [k, this._map.get(k).join(", ")];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "Headers"; }
  }
  define("Headers", Headers);

  // Body contents are kept as a string or as bytes, converted on demand.
  function extractBody(body, headers) {
    if (body === undefined || body === null) return null;
    if (typeof body === "string") { if (headers && !headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8"); return { text: body }; }
    if (body instanceof URLSearchParams) { if (headers && !headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8"); return { text: body.toString() }; }
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { bytes: toBytes(body).slice() };
    if (body && body.__wasmtaskBody) return body.__wasmtaskBody;
    return { text: String(body) };
  }
  class Body {
    _initBody(contents) { this._contents = contents; this._bodyUsed = false; }
    get bodyUsed() { return this._bodyUsed; }
    get body() { return this._contents === null ? null : { __wasmtaskBody: this._contents, locked: false }; }
    _consume() {
      if (this._bodyUsed) return Promise.reject(new TypeError("Body has already been used"));
      this._bodyUsed = true;
      return Promise.resolve(this._contents);
    }
    async text() { const c = await this._consume(); return c === null ? "" : c.text !== undefined ? c.text : native.utf8Decode(c.bytes, false); }
    async json() { return JSON.parse(await this.text()); }
    async arrayBuffer() { const b = await this.bytes(); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); }
    async bytes() { const c = await this._consume(); return c === null ? new Uint8Array(0) : c.bytes !== undefined ? c.bytes.slice() : native.utf8Encode(c.text); }
    async formData() { throw new TypeError("formData() is not supported in wasmtask"); }
    async blob() { throw new TypeError("blob() is not supported in wasmtask"); }
  }

  const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
  class Request extends Body {
    constructor(input, init = {}) {
      super();
      const source = input instanceof Request ? input : null;
      this._url = source ? source.url : new URL(String(input)).href;
      let method = init.method !== undefined ? String(init.method) : source ? source.method : "GET";
      if (METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
      if (!TOKEN.test(method)) throw new TypeError("Invalid method: " + method);
      this._method = method;
      this._headers = new Headers(init.headers !== undefined ? init.headers : source ? source.headers : undefined);
      const body = init.body !== undefined ? extractBody(init.body, this._headers) : source ? source._contents : null;
      if (body !== null && (method === "GET" || method === "HEAD")) throw new TypeError("Request with GET/HEAD method cannot have body.");
      this._initBody(body);
      this._redirect = init.redirect || (source ? source.redirect : "follow");
      this.cf = init.cf || (source ? source.cf : undefined);
      this.signal = init.signal || null;
    }
    get url() { return this._url; }
    get method() { return this._method; }
    get headers() { return this._headers; }
    get redirect() { return this._redirect; }
    clone() { if (this._bodyUsed) throw new TypeError("Body has already been used"); return new Request(this); }
    get [Symbol.toStringTag]() { return "Request"; }
  }
  define("Request", Request);

  class Response extends Body {
    constructor(body = null, init = {}) {
      super();
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError("Response status must be between 200 and 599, got " + init.status);
      this._status = status;
      this._statusText = init.statusText === undefined ? "" : String(init.statusText);
      this._headers = new Headers(init.headers);
      const contents = extractBody(body, this._headers);
      if (contents !== null && (status === 204 || status === 205 || status === 304)) throw new TypeError("Response with null body status cannot have body");
      this._initBody(contents);
      this._url = "";
      this._redirected = false;
      this._type = "default";
    }
    static json(data, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(JSON.stringify(data), Object.assign({}, init, { headers }));
    }
    static redirect(url, status = 302) {
      if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError("Invalid redirect status " + status);
      return new Response(null, { status, headers: { location: new URL(url).href } });
    }
    static error() { const r = new Response(null, { status: 200 }); r._status = 0; r._type = "error"; return r; }
    get status() { return this._status; }
    get statusText() { return this._statusText; }
    get ok() { return this._status >= 200 && this._status < 300; }
    get headers() { return this._headers; }
    get url() { return this._url; }
    get redirected() { return this._redirected; }
    get type() { return this._type; }
    clone() { if (this._bodyUsed) throw new TypeError("Body has already been used"); const r = new Response(null, { status: this._status, statusText: this._statusText, headers: this._headers }); r._contents = this._contents; r._url = this._url; return r; }
    get [Symbol.toStringTag]() { return "Response"; }
  }
  define("Response", Response);

  // The incoming request, built without re-validating what the host already checked
  // (URL parsing and header validation were ~70% of a Workers hello-world's fuel).
  function requestFromHost(wire, contents) {
    const request = Object.create(Request.prototype);
    const headers = Object.create(Headers.prototype);
    headers._map = new Map();
    const names = Object.keys(wire.headers || {});
    for (let i = 0; i < names.length; i++) headers._map.set(names[i], [wire.headers[names[i]]]);
    request._url = wire.url;
    request._method = wire.method;
    request._headers = headers;
    request._redirect = "follow";
    request.cf = undefined;
    request.signal = null;
    request._initBody(contents);
    return request;
  }

  // Wire form of a body: text when it is text, base64 otherwise.
  function wireBody(contents, out) {
    if (contents === null) { out.body = null; return out; }
    if (contents.text !== undefined) { out.body = contents.text; return out; }
    try { out.body = native.utf8Decode(contents.bytes, true); } catch (e) { out.body_base64 = native.base64Encode(contents.bytes); }
    return out;
  }
  function bodyFromWire(wire) {
    if (wire.body_base64 !== undefined && wire.body_base64 !== null) return { bytes: native.base64Decode(wire.body_base64) };
    if (wire.body === undefined || wire.body === null) return null;
    return { text: wire.body };
  }

  // ---- fetch -------------------------------------------------------------------

  function fetchNow(input, init) {
    const request = new Request(input, init);
    if (request._bodyUsed) throw new TypeError("Body has already been used");
    const wire = wireBody(request._contents, { url: request.url, method: request.method, headers: Array.from(request.headers), redirect: request.redirect });
    const answer = JSON.parse(native.fetch(JSON.stringify(wire)));
    if (!answer.ok) {
      const error = new TypeError("fetch failed: " + answer.error.code + ": " + answer.error.message);
      error.code = answer.error.code;
      throw error;
    }
    const response = new Response(null, { status: answer.status < 200 ? 200 : answer.status, statusText: answer.statusText || "", headers: answer.headers });
    response._status = answer.status;
    response._contents = bodyFromWire(answer);
    response._url = answer.url || request.url;
    response._redirected = !!answer.redirected;
    response._type = "basic";
    return response;
  }
  define("fetch", function fetch(input, init) {
    try { return Promise.resolve(fetchNow(input, init)); } catch (e) { return Promise.reject(e); }
  });

  // ---- errors ------------------------------------------------------------------

  function classify(error, fallback) {
    if (error instanceof InternalError && /out of memory/.test(error.message)) return "memory_limit";
    if (native.allocationFailures() > 0 && !(error instanceof Error && !(error instanceof InternalError || error instanceof RangeError))) return "memory_limit";
    if (error instanceof RangeError && /call stack size exceeded|stack overflow/i.test(error.message)) return "stack_overflow";
    return fallback;
  }
  function errorRecord(error, code) {
    if (error === null && native.allocationFailures() > 0) {
      return { code: "memory_limit", name: "InternalError", message: "out of memory", stack: "" };
    }
    if (error instanceof Error) {
      return { code: classify(error, code), name: String(error.name), message: String(error.message), stack: String(error.stack || "") };
    }
    let message;
    try { message = typeof error === "string" ? error : JSON.stringify(error); } catch (e) { message = String(error); }
    if (message === undefined) message = String(error);
    const record = { code: classify(error, code), name: "Error", message, stack: "" };
    if (error && typeof error === "object" && typeof error.message === "string") record.message = error.message;
    return record;
  }
  function describeError(error, code) {
    return JSON.stringify({ ok: false, error: errorRecord(error, code) });
  }

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

  return { load, dispatch, finish, describeError };
})
