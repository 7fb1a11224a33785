  // ---- URL and URLSearchParams (the WHATWG URL standard) ------------------------
  // Parsing, serialization and the setters are ada's (guest_sdk/js/url.c): a parse
  // answers with a record [href, ...ada's component offsets], and the getters slice
  // the href as ada's own getters do. URLSearchParams is plain JS.
  //
  // Why ada and not a parser in JS (measured here, QuickJS-NG 0.17 in wasmtime): it
  // passes the url/ WPT subtests Node 20 passes, IDNA (UTS 46) included, except 13 whose
  // expectations the URL standard changed since (toolchains/url_parser.py); a parse plus
  // two getters costs ~4.6 µs, where the regex-based JS parser it replaced took ~36 µs;
  // it adds ~0.1 MiB of code to jsrt.wasm (compiled once per engine) and ~0.12 MiB of
  // UTS 46 tables to the memory image (its NFC tables are swapped for QuickJS's own).

  // record fields
  const URL_HREF = 0, URL_PROTOCOL_END = 1, URL_USERNAME_END = 2, URL_HOST_START = 3, URL_HOST_END = 4,
    URL_PORT = 5, URL_PATHNAME_START = 6, URL_SEARCH_START = 7, URL_HASH_START = 8;
  // the setters of url.c
  const URL_SET_PROTOCOL = 1, URL_SET_USERNAME = 2, URL_SET_PASSWORD = 3, URL_SET_HOST = 4,
    URL_SET_HOSTNAME = 5, URL_SET_PORT = 6, URL_SET_PATHNAME = 7, URL_SET_SEARCH = 8, URL_SET_HASH = 9;
  const URL_FROM_RECORD = Symbol("URL from a record");

  // WebIDL USVString: a Symbol is a TypeError, lone surrogates become U+FFFD
  function urlUSV(value) {
    if (typeof value === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
    return String(value).toWellFormed();
  }
  function urlRequireArguments(given, needed, what) {
    if (given < needed) throw new TypeError(what + ": " + needed + " argument" + (needed > 1 ? "s" : "") + " required, but only " + given + " present.");
  }

  function urlHostStart(r) {
    return r[URL_HOST_END] > r[URL_HOST_START] && r[URL_HREF].charCodeAt(r[URL_HOST_START]) === 0x40 ? r[URL_HOST_START] + 1 : r[URL_HOST_START];
  }
  function urlHost(r) {
    const start = urlHostStart(r);
    return start === r[URL_HOST_END] ? "" : r[URL_HREF].slice(start, r[URL_PATHNAME_START]);
  }
  function urlSearch(r) {
    if (r[URL_SEARCH_START] < 0) return "";
    const end = r[URL_HASH_START] >= 0 ? r[URL_HASH_START] : r[URL_HREF].length;
    return end - r[URL_SEARCH_START] <= 1 ? "" : r[URL_HREF].slice(r[URL_SEARCH_START], end);
  }
  function urlProtocol(r) { return r[URL_HREF].slice(0, r[URL_PROTOCOL_END]); }

  // application/x-www-form-urlencoded
  function formPercentDecode(s) {
    if (s.indexOf("%") < 0) return s;
    const bytes = native.utf8Encode(s);
    const out = new Uint8Array(bytes.length);
    let o = 0;
    const hex = (c) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x25 && i + 2 < bytes.length) {
        const high = hex(bytes[i + 1]), low = hex(bytes[i + 2]);
        if (high >= 0 && low >= 0) { out[o++] = high * 16 + low; i += 2; continue; }
      }
      out[o++] = b;
    }
    return native.utf8Decode(out.subarray(0, o), false);
  }
  function formParse(input) {
    const list = [];
    for (const sequence of input.split("&")) {
      if (sequence === "") continue;
      const at = sequence.indexOf("=");
      let name = at < 0 ? sequence : sequence.slice(0, at);
      let value = at < 0 ? "" : sequence.slice(at + 1);
      if (name.indexOf("+") >= 0) name = name.replace(/\+/g, " ");
      if (value.indexOf("+") >= 0) value = value.replace(/\+/g, " ");
      list.push([formPercentDecode(name), formPercentDecode(value)]);
    }
    return list;
  }
  // the application/x-www-form-urlencoded percent-encode set; space as "+" (strings are USV here)
  function formEncode(s) {
    return encodeURIComponent(s).replace(/%20|[!'()~]/g, (c) => (c === "%20" ? "+" : "%" + c.charCodeAt(0).toString(16).toUpperCase()));
  }
  function formSerialize(list) {
    let out = "";
    for (let i = 0; i < list.length; i++) out += (i ? "&" : "") + formEncode(list[i][0]) + "=" + formEncode(list[i][1]);
    return out;
  }

  let searchParamsAttach; // (params, url): params become url's query object
  let searchParamsReset; // (params, query): the list parsed from a new query
  let urlUpdateQuery; // (url, serialized): a query object's changes into its URL

  // WebIDL's iterator objects: "URLSearchParams Iterator", inheriting %IteratorPrototype%
  class URLSearchParamsIterator {
    #step;
    constructor(step) { this.#step = step; }
    next() { return this.#step(); }
  }
  Object.setPrototypeOf(URLSearchParamsIterator.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));
  encodingWebIdl(URLSearchParamsIterator, "URLSearchParams Iterator");
  delete URLSearchParamsIterator.prototype.constructor;

  class URLSearchParams {
    #list = [];
    #url = null;
    constructor(init = "") {
      if (init !== null && (typeof init === "object" || typeof init === "function")) {
        const method = init[Symbol.iterator];
        if (method !== undefined && method !== null) {
          if (typeof method !== "function") throw new TypeError("URLSearchParams: init is not iterable");
          for (const pair of { [Symbol.iterator]: () => method.call(init) }) {
            if (pair === null || (typeof pair !== "object" && typeof pair !== "function")) throw new TypeError("URLSearchParams: each pair must be a sequence");
            const items = [...pair];
            if (items.length !== 2) throw new TypeError("URLSearchParams: each pair must have exactly two items");
            this.#list.push([urlUSV(items[0]), urlUSV(items[1])]);
          }
        } else {
          const seen = new Map();
          for (const key of Reflect.ownKeys(init)) {
            const descriptor = Reflect.getOwnPropertyDescriptor(init, key);
            if (descriptor === undefined || !descriptor.enumerable) continue;
            const name = urlUSV(key), value = urlUSV(init[key]);
            if (seen.has(name)) this.#list[seen.get(name)][1] = value;
            else { seen.set(name, this.#list.length); this.#list.push([name, value]); }
          }
        }
      } else {
        const query = urlUSV(init);
        this.#list = formParse(query.charCodeAt(0) === 0x3f ? query.slice(1) : query);
      }
    }
    static {
      searchParamsAttach = (params, url) => { params.#url = url; };
      searchParamsReset = (params, query) => { params.#list = formParse(query.slice(1)); };
    }
    #update() { if (this.#url !== null) urlUpdateQuery(this.#url, formSerialize(this.#list)); }
    get size() { return this.#list.length; }
    append(name, value) {
      urlRequireArguments(arguments.length, 2, "URLSearchParams.append");
      this.#list.push([urlUSV(name), urlUSV(value)]);
      this.#update();
    }
    delete(name, value = undefined) {
      urlRequireArguments(arguments.length, 1, "URLSearchParams.delete");
      name = urlUSV(name);
      if (value === undefined) this.#list = this.#list.filter((pair) => pair[0] !== name);
      else { value = urlUSV(value); this.#list = this.#list.filter((pair) => pair[0] !== name || pair[1] !== value); }
      this.#update();
    }
    get(name) {
      urlRequireArguments(arguments.length, 1, "URLSearchParams.get");
      name = urlUSV(name);
      const pair = this.#list.find((p) => p[0] === name);
      return pair === undefined ? null : pair[1];
    }
    getAll(name) {
      urlRequireArguments(arguments.length, 1, "URLSearchParams.getAll");
      name = urlUSV(name);
      return this.#list.filter((p) => p[0] === name).map((p) => p[1]);
    }
    has(name, value = undefined) {
      urlRequireArguments(arguments.length, 1, "URLSearchParams.has");
      name = urlUSV(name);
      if (value === undefined) return this.#list.some((p) => p[0] === name);
      value = urlUSV(value);
      return this.#list.some((p) => p[0] === name && p[1] === value);
    }
    set(name, value) {
      urlRequireArguments(arguments.length, 2, "URLSearchParams.set");
      name = urlUSV(name);
      value = urlUSV(value);
      const at = this.#list.findIndex((p) => p[0] === name);
      if (at < 0) this.#list.push([name, value]);
      else {
        this.#list[at][1] = value;
        this.#list = this.#list.filter((p, i) => i <= at || p[0] !== name);
      }
      this.#update();
    }
    sort() {
      this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); // stable, by code units
      this.#update();
    }
    forEach(callback, thisArg = undefined) {
      urlRequireArguments(arguments.length, 1, "URLSearchParams.forEach");
      if (typeof callback !== "function") throw new TypeError("URLSearchParams.forEach: the callback is not a function");
      for (let i = 0; i < this.#list.length; i++) {
        const pair = this.#list[i];
        callback.call(thisArg, pair[1], pair[0], this);
      }
    }
    entries() { return this.#iterator("key+value"); }
    keys() { return this.#iterator("key"); }
    values() { return this.#iterator("value"); }
    #iterator(kind) {
      const params = this;
      let index = 0;
      return new URLSearchParamsIterator(() => {
        const list = params.#list;
        if (index >= list.length) return { value: undefined, done: true };
        const pair = list[index++];
        return { value: kind === "key" ? pair[0] : kind === "value" ? pair[1] : [pair[0], pair[1]], done: false };
      });
    }
    toString() { return formSerialize(this.#list); }
  }
  encodingWebIdl(URLSearchParams, "URLSearchParams");
  Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
    value: URLSearchParams.prototype.entries, writable: true, configurable: true, enumerable: false,
  });

  class URL {
    #r;
    #query = null;
    constructor(url, base = undefined) {
      if (url === URL_FROM_RECORD) { this.#r = base; return; }
      urlRequireArguments(arguments.length, 1, "URL constructor");
      const r = native.urlParse(url, base);
      if (r === null) throw new TypeError("Invalid URL: " + urlUSV(url) + (base === undefined ? "" : " (base " + urlUSV(base) + ")"));
      this.#r = r;
    }
    static {
      urlUpdateQuery = (url, serialized) => {
        const r = native.urlSet(url.#r[URL_HREF], URL_SET_SEARCH, serialized);
        if (r !== null) url.#r = r;
      };
    }
    static canParse(url, base = undefined) {
      urlRequireArguments(arguments.length, 1, "URL.canParse");
      return native.urlParse(url, base) !== null;
    }
    static parse(url, base = undefined) {
      urlRequireArguments(arguments.length, 1, "URL.parse");
      const r = native.urlParse(url, base);
      return r === null ? null : new URL(URL_FROM_RECORD, r);
    }
    #set(which, value) {
      const r = native.urlSet(this.#r[URL_HREF], which, value);
      if (r !== null) this.#r = r;
    }
    get href() { return this.#r[URL_HREF]; }
    set href(value) {
      const r = native.urlParse(value);
      if (r === null) throw new TypeError("Invalid URL: " + urlUSV(value));
      this.#r = r;
      if (this.#query !== null) searchParamsReset(this.#query, urlSearch(r));
    }
    get origin() {
      const r = this.#r, protocol = urlProtocol(r);
      if (protocol === "http:" || protocol === "https:" || protocol === "ws:" || protocol === "wss:" || protocol === "ftp:") return protocol + "//" + urlHost(r);
      if (protocol === "blob:") {
        const inner = native.urlParse(this.pathname);
        const innerProtocol = inner === null ? "" : urlProtocol(inner);
        if (innerProtocol === "http:" || innerProtocol === "https:") return innerProtocol + "//" + urlHost(inner);
      }
      return "null";
    }
    get protocol() { return urlProtocol(this.#r); }
    set protocol(value) { this.#set(URL_SET_PROTOCOL, value); }
    get username() {
      const r = this.#r;
      return r[URL_PROTOCOL_END] + 2 < r[URL_USERNAME_END] ? r[URL_HREF].slice(r[URL_PROTOCOL_END] + 2, r[URL_USERNAME_END]) : "";
    }
    set username(value) { this.#set(URL_SET_USERNAME, value); }
    get password() {
      const r = this.#r;
      return r[URL_HOST_START] > r[URL_USERNAME_END] ? r[URL_HREF].slice(r[URL_USERNAME_END] + 1, r[URL_HOST_START]) : "";
    }
    set password(value) { this.#set(URL_SET_PASSWORD, value); }
    get host() { return urlHost(this.#r); }
    set host(value) { this.#set(URL_SET_HOST, value); }
    get hostname() { const r = this.#r; return r[URL_HREF].slice(urlHostStart(r), r[URL_HOST_END]); }
    set hostname(value) { this.#set(URL_SET_HOSTNAME, value); }
    get port() { const r = this.#r; return r[URL_PORT] < 0 ? "" : r[URL_HREF].slice(r[URL_HOST_END] + 1, r[URL_PATHNAME_START]); }
    set port(value) { this.#set(URL_SET_PORT, value); }
    get pathname() {
      const r = this.#r;
      const end = r[URL_SEARCH_START] >= 0 ? r[URL_SEARCH_START] : r[URL_HASH_START] >= 0 ? r[URL_HASH_START] : r[URL_HREF].length;
      return r[URL_HREF].slice(r[URL_PATHNAME_START], end);
    }
    set pathname(value) { this.#set(URL_SET_PATHNAME, value); }
    get search() { return urlSearch(this.#r); }
    set search(value) {
      this.#set(URL_SET_SEARCH, value);
      if (this.#query !== null) searchParamsReset(this.#query, urlSearch(this.#r));
    }
    get searchParams() {
      if (this.#query === null) {
        this.#query = new URLSearchParams(urlSearch(this.#r));
        searchParamsAttach(this.#query, this);
      }
      return this.#query;
    }
    get hash() {
      const r = this.#r;
      return r[URL_HASH_START] < 0 || r[URL_HREF].length - r[URL_HASH_START] <= 1 ? "" : r[URL_HREF].slice(r[URL_HASH_START]);
    }
    set hash(value) { this.#set(URL_SET_HASH, value); }
    toString() { return this.#r[URL_HREF]; }
    toJSON() { return this.#r[URL_HREF]; }
  }
  encodingWebIdl(URL, "URL");
  for (const name of ["canParse", "parse"]) {
    const descriptor = Object.getOwnPropertyDescriptor(URL, name);
    descriptor.enumerable = true;
    Object.defineProperty(URL, name, descriptor);
  }

  define("URLSearchParams", URLSearchParams);
  define("URL", URL);
