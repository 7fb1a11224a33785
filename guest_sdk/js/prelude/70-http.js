  // ---- Headers, Body, Request, Response (Fetch Standard 5.x) --------------------------
  // Guards as in the spec, without the forbidden-header filtering a browser does
  // (a server needs Set-Cookie, Host, ...; Node and Workers do not filter either).
  // A body is text, bytes or a ReadableStream; a stream is created only when
  // `.body` is read, so a plain text or bytes body costs no stream. A lazy module
  // (35-webidl.js), compiled at deploy for Workers and (ctx, req, res) handlers;
  // Request's constructor, MIME types, blob(), formData() and fetch() are the lazy
  // "fetch" module (80-fetch.js).

  const httpModule = lazyModule("http", () => ({
    native, g, INTERNAL, definePairIterator, promiseReturning, webidlInterface, dictionaryOf, isObjectValue, toUSVString, bufferSourceBytes,
    utf8DecodeWithoutBOM, resolvedWith, rejectedWith, upon, promiseCall, wireBody, isBlobValue, blobModule, isFormDataValue,
    isReadableStreamValue, streamsModule, eventsModule, fetchModule
  }));
  lazyGlobals(["Headers", "Request", "Response"], httpModule);
  function isResponseValue(value) { return httpModule.loaded() && httpModule().isResponse(value); }

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

/*@lazy http
(function (prelude) {
  "use strict";
  const {
    native, g, INTERNAL, definePairIterator, promiseReturning, webidlInterface, dictionaryOf, isObjectValue, toUSVString, bufferSourceBytes,
    utf8DecodeWithoutBOM, resolvedWith, rejectedWith, upon, promiseCall, wireBody, isBlobValue, blobModule, isFormDataValue,
    isReadableStreamValue, streamsModule, eventsModule, fetchModule
  } = prelude;

  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
  function toByteString(value) {
    if (typeof value === "symbol") throw new TypeError("Cannot convert a Symbol value to a ByteString");
    value = String(value);
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\xff]/.test(value)) throw new TypeError("The string contains a character above U+00FF");
    return value;
  }
  function headerName(name) {
    name = toByteString(name);
    if (!TOKEN.test(name)) throw new TypeError("Invalid header name: " + JSON.stringify(name));
    return name.toLowerCase();
  }
  function headerValue(value) {
    value = toByteString(value).replace(HTTP_WHITESPACE, "");
    if (/[\0\r\n]/.test(value)) throw new TypeError("Invalid header value: " + JSON.stringify(value));
    return value;
  }

  // WebIDL conversion of HeadersInit: sequence<sequence<ByteString>> or record<ByteString, ByteString>
  function convertHeadersInit(init) {
    if (!isObjectValue(init)) throw new TypeError("Headers: the init argument must be an object");
    const method = init[Symbol.iterator];
    const pairs = [];
    if (method !== undefined && method !== null) {
      if (typeof method !== "function") throw new TypeError("Headers: init[Symbol.iterator] is not a function");
      for (const item of { [Symbol.iterator]: () => method.call(init) }) {
        if (!isObjectValue(item)) throw new TypeError("Headers: each header must be a sequence of a name and a value");
        pairs.push(Array.from(item, toByteString));
      }
    } else {
      for (const key of Reflect.ownKeys(init)) {
        const desc = Reflect.getOwnPropertyDescriptor(init, key);
        if (desc === undefined || !desc.enumerable) continue;
        const name = toByteString(key);
        pairs.push([name, toByteString(init[key])]);
      }
    }
    return pairs;
  }

  let headersRecord; // (headers) -> {list: [[lowercase name, value]], guard, sorted}
  class Headers {
    #h;
    constructor(init = undefined, record = undefined) { // record: with INTERNAL (no arguments object per call)
      if (init === INTERNAL) { this.#h = record; return; }
      this.#h = { list: [], guard: "none", sorted: null };
      if (init !== undefined) fillHeaders(this.#h, convertHeadersInit(init));
    }
    append(name, value) { appendHeader(this.#h, headerName(name), headerValue(value)); }
    delete(name) {
      const h = this.#h;
      name = headerName(name);
      checkGuard(h);
      if (h.list.some((p) => p[0] === name)) { h.list = h.list.filter((p) => p[0] !== name); h.sorted = null; }
    }
    get(name) { return getHeader(this.#h, headerName(name)); }
    getSetCookie() { return this.#h.list.filter((p) => p[0] === "set-cookie").map((p) => p[1]); }
    has(name) { name = headerName(name); return this.#h.list.some((p) => p[0] === name); }
    set(name, value) {
      const h = this.#h;
      name = headerName(name);
      value = headerValue(value);
      checkGuard(h);
      const i = h.list.findIndex((p) => p[0] === name);
      if (i < 0) h.list.push([name, value]);
      else h.list = h.list.filter((p, j) => j === i || p[0] !== name).map((p) => (p[0] === name ? [name, value] : p));
      h.sorted = null;
    }
    forEach(callback, thisArg = undefined) {
      if (typeof callback !== "function") throw new TypeError("Headers.forEach: the callback is not a function");
      const h = this.#h;
      for (let i = 0; i < sortAndCombine(h).length; i++) { const p = sortAndCombine(h)[i]; callback.call(thisArg, p[1], p[0], this); }
    }
    static { headersRecord = (x) => x.#h; }
  }
  definePairIterator(Headers, "Headers", (x) => sortAndCombine(headersRecord(x)));

  function newHeaders(list, guard) { return new Headers(INTERNAL, { list, guard, sorted: null }); }
  function checkGuard(h) { if (h.guard === "immutable") throw new TypeError("Headers are immutable"); }
  function appendHeader(h, name, value) {
    checkGuard(h);
    h.list.push([name, value]);
    h.sorted = null;
  }
  function fillHeaders(h, pairs) {
    for (const pair of pairs) {
      if (pair.length !== 2) throw new TypeError("Headers: each header must have exactly a name and a value");
      appendHeader(h, headerName(pair[0]), headerValue(pair[1]));
    }
  }
  function getHeader(h, name) {
    let out = null;
    for (const p of h.list) if (p[0] === name) out = out === null ? p[1] : out + ", " + p[1];
    return out;
  }
  function sortAndCombine(h) {
    if (h.sorted !== null) return h.sorted;
    const names = [...new Set(h.list.map((p) => p[0]))].sort();
    const out = [];
    for (const name of names) {
      if (name === "set-cookie") { for (const p of h.list) if (p[0] === name) out.push([name, p[1]]); }
      else out.push([name, getHeader(h, name)]);
    }
    h.sorted = out;
    return out;
  }

  const QUOTED_STRING_TOKEN = /^[\t\x20-\x7e\x80-\xff]*$/;

  // ---- bodies ----

  // Extract a body (Fetch 5.2): {body: {text} | {bytes} | {stream}, type}
  function extractBody(object, keepalive = false) {
    if (typeof object === "string") return { body: { text: object.toWellFormed() }, type: "text/plain;charset=UTF-8" };
    if (object instanceof ArrayBuffer || ArrayBuffer.isView(object)) return { body: { bytes: bufferSourceBytes(object).slice() }, type: null };
    if (isBlobValue(object)) { const r = blobModule().blobRecord(object); return { body: { bytes: r.bytes }, type: r.type === "" ? null : r.type }; }
    if (object instanceof URLSearchParams) return { body: { text: object.toString() }, type: "application/x-www-form-urlencoded;charset=UTF-8" };
    if (isFormDataValue(object)) {
      const blob = blobModule();
      const boundary = blob.multipartBoundary();
      return { body: { bytes: blob.serializeMultipart(blob.formDataRecord(object), boundary) }, type: "multipart/form-data; boundary=" + boundary };
    }
    if (isReadableStreamValue(object)) {
      const s = streamsModule().rsRecord(object);
      if (keepalive) throw new TypeError("keepalive requests cannot have a ReadableStream body");
      if (s.disturbed || s.reader !== undefined) throw new TypeError("The ReadableStream body is disturbed or locked");
      return { body: { stream: s, fromStream: true }, type: null };
    }
    return { body: { text: toUSVString(object) }, type: "text/plain;charset=UTF-8" };
  }
  function bodyBytes(b) { return b.bytes !== undefined ? b.bytes : native.utf8Encode(b.text); }

  let bodyRecord; // (request or response) -> {body: null | {text, bytes, stream}, used, error, headers}
  class Body {
    #b;
    constructor(record) { this.#b = record; }
    get body() {
      const r = this.#b;
      if (r.body === null) return null;
      return bodyStream(r).obj;
    }
    get bodyUsed() { return isBodyUsed(this.#b); }
    arrayBuffer() { return consumeBody(this.#b, (b) => { const x = bodyBytes(b); return x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength); }); }
    blob() { const r = this.#b; return consumeBody(r, (b) => fetchModule().blobOf(r, b)); }
    bytes() { return consumeBody(this.#b, (b) => (b.bytes !== undefined ? b.bytes.slice() : native.utf8Encode(b.text))); }
    formData() { const r = this.#b; return consumeBody(r, (b) => fetchModule().formDataOf(r, b)); }
    json() { return consumeBody(this.#b, (b) => JSON.parse(bodyText(b))); }
    text() { return consumeBody(this.#b, bodyText); }
    static { bodyRecord = (x) => x.#b; }
  }
  function newBodyRecord(body, headers) { return { body, used: false, error: undefined, headers }; }
  function bodyText(b) { return b.text !== undefined ? b.text : utf8DecodeWithoutBOM(b.bytes); }
  function isBodyUsed(r) { return r.body !== null && (r.body.stream ? r.body.stream.disturbed : r.used); }
  function isBodyUnusable(r) { return r.body !== null && (isBodyUsed(r) || (r.body.stream ? r.body.stream.reader !== undefined : false)); }
  function bodyStream(r) {
    const b = r.body;
    if (!b.stream) {
      const streams = streamsModule();
      b.stream = streams.readableStreamFromBytes(r.used ? new Uint8Array(0) : bodyBytes(b));
      if (r.used) streams.closeUsedStream(b.stream);
      else if (r.error !== undefined) streams.errorStream(b.stream, r.error);
    }
    return b.stream;
  }
  // Consume a body: the fast path hands over text or bytes; a stream is read to the end.
  function consumeBody(r, convert) {
    if (isBodyUnusable(r)) return rejectedWith(new TypeError("Body has already been used"));
    if (r.error !== undefined) return rejectedWith(r.error);
    const b = r.body;
    if (b === null) return promiseCall(convert, undefined, [{ bytes: new Uint8Array(0) }]);
    if (!b.stream) { r.used = true; return promiseCall(convert, undefined, [b]); }
    return upon(streamsModule().readAllBytes(b.stream), (bytes) => convert({ bytes }));
  }
  function cloneBodyContents(r) {
    const b = r.body;
    if (b === null) return null;
    if (!b.stream) return { text: b.text, bytes: b.bytes };
    const [out1, out2] = streamsModule().readableStreamTee(b.stream, true);
    b.stream = out1;
    return { stream: out2, fromStream: b.fromStream };
  }
  function setContentType(headers, type) {
    const h = headersRecord(headers);
    if (type !== null && getHeader(h, "content-type") === null) h.list.push(["content-type", type]);
  }

  // ---- Request ----

  let requestRecord;
  class Request extends Body {
    #r;
    constructor(...args) { // (input, init): a rest array rather than an `arguments` object per construction
      const input = args[0], init = args[1];
      if (input === INTERNAL) { super(init.bodyRecord); this.#r = init.request; return; }
      const parts = fetchModule().newRequest(args.length, input, init);
      super(parts.bodyRecord);
      this.#r = parts.request;
    }
    get method() { return this.#r.method; }
    get url() { return this.#r.url; }
    get headers() { return this.#r.headers; }
    get destination() { return this.#r.destination; }
    get referrer() {
      const r = this.#r.referrer;
      return r === "no-referrer" ? "" : r === "client" ? "about:client" : r;
    }
    get referrerPolicy() { return this.#r.referrerPolicy; }
    get mode() { return this.#r.mode; }
    get credentials() { return this.#r.credentials; }
    get cache() { return this.#r.cache; }
    get redirect() { return this.#r.redirect; }
    get integrity() { return this.#r.integrity; }
    get keepalive() { return this.#r.keepalive; }
    get isReloadNavigation() { return this.#r.reloadNavigation; }
    get isHistoryNavigation() { return this.#r.historyNavigation; }
    get signal() { const r = this.#r; if (r.signal === null) r.signal = eventsModule().newAbortSignal(); return r.signal; }
    get duplex() { return this.#r.duplex; }
    get cf() { return this.#r.cf; }
    clone() { return new Request(INTERNAL, fetchModule().cloneRequest(this.#r, bodyRecord(this))); }
    static { requestRecord = (x) => x.#r; }
  }
  Object.defineProperty(Request, "length", { value: 1, configurable: true }); // (input, optional init), as declared
  // A request record's copy with ``changes``, keeping its prototype (a host request's defaults)
  function copyRequestRecord(r, changes) { return Object.assign(Object.create(Object.getPrototypeOf(r)), r, changes); }

  // ---- Response ----

  const NULL_BODY_STATUSES = [101, 103, 204, 205, 304];
  function toUnsignedShort(value) {
    const n = Number(value);
    if (!Number.isFinite(n)) return 0;
    const t = Math.trunc(n) % 65536;
    return t < 0 ? t + 65536 : t;
  }

  let responseRecord;
  class Response extends Body {
    #r;
    constructor(body = null, init = undefined) {
      if (body === INTERNAL) { super(init.bodyRecord); this.#r = init.response; return; }
      if (typeof body === "string" && init === undefined) { // new Response(text), the usual case: as below, in short
        const headers = newHeaders([["content-type", "text/plain;charset=UTF-8"]], "response");
        super(newBodyRecord({ text: body.toWellFormed() }, headers));
        this.#r = { type: "default", url: "", redirected: false, status: 200, statusText: "", headers };
        return;
      }
      const bodyInit = body === null || body === undefined ? null : bodyInitValue(body);
      const { response, contents } = initializeResponse(init, bodyInit === null ? null : () => extractBody(bodyInit));
      super(newBodyRecord(contents, response.headers));
      this.#r = response;
    }
    static error() {
      return newResponse({ type: "error", url: "", redirected: false, status: 0, statusText: "", headers: newHeaders([], "immutable") }, null);
    }
    static redirect(url, status = 302) { return fetchModule().redirectResponse(url, status); }
    static json(data, init = undefined) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError("Response.json: the value cannot be serialized to JSON");
      const { response, contents } = initializeResponse(init, () => ({ body: { text }, type: "application/json" }));
      return newResponse(response, contents);
    }
    get type() { return this.#r.type; }
    get url() { const u = this.#r.url; return u.includes("#") ? u.slice(0, u.indexOf("#")) : u; }
    get redirected() { return this.#r.redirected; }
    get status() { return this.#r.status; }
    get ok() { return this.#r.status >= 200 && this.#r.status <= 299; }
    get statusText() { return this.#r.statusText; }
    get headers() { return this.#r.headers; }
    clone() {
      const r = this.#r;
      const b = bodyRecord(this);
      if (isBodyUnusable(b)) throw new TypeError("Response.clone: the body has already been used");
      const hr = headersRecord(r.headers);
      const headers = newHeaders(hr.list.map((p) => p.slice()), hr.guard);
      return newResponse(Object.assign({}, r, { headers }), cloneBodyContents(b));
    }
    static { responseRecord = (x) => x.#r; }
  }
  // WebIDL's conversion of BodyInit: platform objects stay, anything else becomes a string
  function bodyInitValue(body) {
    if (typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || isBlobValue(body)
      || body instanceof URLSearchParams || isFormDataValue(body) || isReadableStreamValue(body)) return body;
    return toUSVString(body);
  }
  // "initialize a response" (Fetch 5.5) with an optional body to extract
  function initializeResponse(init, extract) {
    const dict = dictionaryOf(init, "ResponseInit");
    const initHeaders = dict.headers === undefined ? undefined : convertHeadersInit(dict.headers);
    const status = dict.status === undefined ? 200 : toUnsignedShort(dict.status);
    const statusText = dict.statusText === undefined ? "" : toByteString(dict.statusText);
    if (status < 200 || status > 599) throw new RangeError("The status provided (" + status + ") is outside the range [200, 599]");
    if (statusText !== "" && (!QUOTED_STRING_TOKEN.test(statusText) || /[\r\n]/.test(statusText))) throw new TypeError("Invalid statusText");
    const headers = newHeaders([], "response");
    if (initHeaders !== undefined) fillHeaders(headersRecord(headers), initHeaders);
    let contents = null;
    if (extract !== null) {
      if (NULL_BODY_STATUSES.includes(status)) throw new TypeError("Response with null body status cannot have body");
      const extracted = extract();
      contents = extracted.body;
      setContentType(headers, extracted.type);
    }
    return { response: { type: "default", url: "", redirected: false, status, statusText, headers }, contents };
  }
  function newResponse(response, contents) {
    return new Response(INTERNAL, { response, bodyRecord: newBodyRecord(contents, response.headers) });
  }

  // The incoming request, built without re-validating what the host already checked
  // (URL parsing and header validation were ~70% of a Workers hello-world's fuel).
  function requestFromHost(wire, contents) {
    const list = [];
    const names = Object.keys(wire.headers || {});
    for (let i = 0; i < names.length; i++) list.push([names[i], wire.headers[names[i]]]);
    const headers = newHeaders(list, "request");
    const request = { __proto__: HOST_REQUEST_DEFAULTS, method: wire.method, url: wire.url, headers };
    return new Request(INTERNAL, { request, bodyRecord: newBodyRecord(contents, headers) });
  }
  // What every request from the host has alike: its record's prototype, so a call sets three fields, not seventeen
  // (not frozen: a record's own fields shadow these, e.g. signal once read)
  const HOST_REQUEST_DEFAULTS = { destination: "", referrer: "client", referrerPolicy: "", mode: "cors", credentials: "same-origin",
    cache: "default", redirect: "follow", integrity: "", keepalive: false, reloadNavigation: false, historyNavigation: false, signal: null,
    duplex: "half", priority: "auto", cf: undefined };

  // A body's final contents for the wire: text or bytes now, or (a stream) a promise of them.
  function settledBodyContents(r) {
    const b = r.body;
    if (b === null || !b.stream) return b;
    if (b.stream.disturbed || b.stream.reader !== undefined) throw new TypeError("The response body has already been used");
    return upon(streamsModule().readAllBytes(b.stream), (bytes) => ({ bytes }));
  }

  // A Response as a call's result: the reply's fields, or (a streamed body) a promise of them
  function responseResult(response) {
    const r = responseRecord(response);
    const out = { type: "response", status: r.status, headers: headersRecord(r.headers).list };
    const contents = settledBodyContents(bodyRecord(response));
    if (contents === null || typeof contents.then !== "function") return wireBody(contents, out);
    return upon(contents, (settled) => wireBody(settled, out));
  }
  const isResponse = (value) => { try { responseRecord(value); return true; } catch (e) { return false; } };

  webidlInterface(Body);
  promiseReturning(Body, ["arrayBuffer", "blob", "bytes", "formData", "json", "text"]);
  for (const cls of [Headers, Request, Response]) webidlInterface(cls);
  return {
    Headers, Request, Response, TOKEN, HTTP_WHITESPACE, QUOTED_STRING_TOKEN, toByteString, convertHeadersInit, headersRecord, newHeaders,
    fillHeaders, getHeader, requestRecord, bodyRecord, responseRecord, newBodyRecord, newResponse, isBodyUnusable, extractBody,
    setContentType, cloneBodyContents, bodyBytes, bodyText, settledBodyContents, toUnsignedShort, requestFromHost, responseResult, isResponse,
    copyRequestRecord,
  };
})
@end*/
