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
