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
