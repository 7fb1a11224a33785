// node:url for wasmtask functions (toolchains/bundler.py maps `node:url` and `url` here): the
// WHATWG URL classes the runtime has, the file: URL helpers, and the legacy parse/format/resolve
// built on them (absolute URLs; a relative input keeps only path, search and hash).

export const URL = globalThis.URL;
export const URLSearchParams = globalThis.URLSearchParams;

export function fileURLToPath(url) {
  const parsed = typeof url === "string" ? new URL(url) : url;
  if (parsed.protocol !== "file:") throw new TypeError("The URL must be of scheme file");
  if (parsed.hostname !== "") throw new TypeError('File URL host must be "localhost" or empty');
  const path = parsed.pathname;
  if (/%2f/i.test(path)) throw new TypeError("File URL path must not include encoded / characters");
  return decodeURIComponent(path);
}

export function pathToFileURL(path) {
  const absolute = String(path).startsWith("/") ? String(path) : "/" + String(path);
  const url = new URL("file://");
  url.pathname = absolute.split("/").map((part) => encodeURIComponent(part)).join("/");
  return url;
}

export function domainToASCII(domain) {
  try { return new URL("http://" + domain).hostname; } catch (error) { return ""; }
}

export function domainToUnicode(domain) {
  return String(domain);
}

const PLACEHOLDER = "http://wasmtask.invalid";

export function parse(text, parseQueryString) {
  const input = String(text).trim();
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(input);
  const url = new URL(input, absolute ? undefined : PLACEHOLDER);
  const search = url.search;
  const result = {
    protocol: absolute ? url.protocol : null,
    slashes: absolute ? /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(input) : null,
    auth: absolute && url.username ? decodeURIComponent(url.username) + (url.password ? ":" + decodeURIComponent(url.password) : "") : null,
    host: absolute ? url.host || null : null,
    port: absolute ? url.port || null : null,
    hostname: absolute ? url.hostname || null : null,
    hash: url.hash || null,
    search: search || null,
    query: parseQueryString ? Object.fromEntries(url.searchParams) : search ? search.slice(1) : null,
    pathname: absolute || input.startsWith("/") ? url.pathname : url.pathname.slice(1),
    path: null,
    href: absolute ? url.href : input,
  };
  result.path = (result.pathname || "") + (search || "");
  return result;
}

export function format(object) {
  if (typeof object === "string") return object;
  if (object instanceof URL) return object.href;
  const protocol = object.protocol ? (object.protocol.endsWith(":") ? object.protocol : object.protocol + ":") : "";
  const host = object.host || (object.hostname ? object.hostname + (object.port ? ":" + object.port : "") : "");
  const auth = object.auth ? encodeURIComponent(object.auth).replace(/%3A/i, ":") + "@" : "";
  const slashes = object.slashes || /^(https?|ftp|file|wss?):$/.test(protocol) ? "//" : "";
  let search = object.search || "";
  if (!search && object.query && typeof object.query === "object") {
    const query = new URLSearchParams(object.query).toString();
    search = query ? "?" + query : "";
  }
  if (search && !search.startsWith("?")) search = "?" + search;
  const hash = object.hash ? (object.hash.startsWith("#") ? object.hash : "#" + object.hash) : "";
  const pathname = object.pathname || "";
  return protocol + (host || protocol === "file:" ? slashes + auth + host : "") + pathname + search + hash;
}

export function resolve(from, to) {
  const base = new URL(from, PLACEHOLDER);
  const resolved = new URL(to, base);
  if (resolved.origin === PLACEHOLDER && !String(from).startsWith(PLACEHOLDER)) {
    return resolved.pathname + resolved.search + resolved.hash;
  }
  return resolved.href;
}

export default { URL, URLSearchParams, fileURLToPath, pathToFileURL, domainToASCII, domainToUnicode, parse, format, resolve };
