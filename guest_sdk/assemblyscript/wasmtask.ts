// wasmtask AssemblyScript SDK: write `export function handle(req: Request): Response`.
//
//     import { Request, Response, log, JSON } from "./wasmtask";
//
//     export function handle(req: Request): Response {
//       const name = req.query("name") || "world";
//       log("hello from AssemblyScript, " + name);
//       return Response.json(`{"hello":${JSON.quote(name)}}`);
//     }
//
// Deployed as source (language "assemblyscript"), wasmtask compiles it with
// asc 0.28 (`--runtime stub`: memory is never freed; the host drops the whole
// instance after each request) together with this file and entry.ts (the ABI
// exports; guest_sdk/ABI.md). `throw new Error(...)` logs the message and ends
// the call with `guest_error`.

@external("wasmtask", "log")
declare function host_log(level: i32, ptr: usize, len: usize): void;

@external("wasmtask", "fetch")
declare function host_fetch(ptr: usize, len: usize): i32;

@external("wasmtask", "staged_read")
declare function host_staged_read(ptr: usize, len: usize): i32;

export enum Level {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
}

/** One line on the tenant's log stream. */
export function log(message: string, level: Level = Level.Info): void {
  const bytes = String.UTF8.encode(message);
  host_log(level, changetype<usize>(bytes), <usize>bytes.byteLength);
}

/** The request (guest_sdk/ABI.md "The request JSON"). */
export class Request {
  /** The request JSON as the host sent it. */
  raw: string;

  constructor(raw: string) {
    this.raw = raw;
  }

  get method(): string {
    const method = JSON.getString(this.raw, "method");
    return method === null ? "GET" : method;
  }

  get path(): string {
    const path = JSON.getString(this.raw, "path");
    return path === null ? "/" : path;
  }

  /** A query parameter (the first value when repeated). */
  query(name: string): string | null {
    const single = JSON.getString(this.raw, "query." + name);
    return single !== null ? single : JSON.getString(this.raw, "query." + name + ".0");
  }

  /** A header, by its lower-case name. */
  header(name: string): string | null {
    return JSON.getString(this.raw, "headers." + name);
  }

  secret(name: string): string | null {
    return JSON.getString(this.raw, "secrets." + name);
  }

  /** The body as text (null when empty or not UTF-8: see body_base64). */
  get body(): string | null {
    return JSON.getString(this.raw, "body");
  }
}

/** What a handler returns: a JSON value, an HTTP response, or an error. */
export class Response {
  reply: string;

  constructor(reply: string) {
    this.reply = reply;
  }

  /** A JSON value, given as JSON text. */
  static json(valueJson: string): Response {
    return new Response(`{"ok":true,"result":{"type":"json","value":${valueJson.length ? valueJson : "null"}}}`);
  }

  /** An HTTP response with a body and a content-type. */
  static text(body: string, status: i32 = 200, contentType: string = "text/plain; charset=utf-8"): Response {
    return new Response(
      `{"ok":true,"result":{"type":"response","status":${status},"headers":[["content-type",${JSON.quote(contentType)}]],"body":${JSON.quote(body)}}}`,
    );
  }

  /** A guest-reported error (code guest_error). */
  static error(message: string, code: string = "guest_error"): Response {
    return new Response(`{"ok":false,"error":{"code":${JSON.quote(code)},"message":${JSON.quote(message)}}}`);
  }
}

/**
 * An HTTP request through the host. `requestJson` is the fetch JSON of ABI.md
 * ({"url", "method", "headers": [[name, value]], "body"}); returns the response
 * JSON ({"ok": true, "status", "headers", "body"} or {"ok": false, "error": {...}}).
 */
export function fetch(requestJson: string): string {
  const request = String.UTF8.encode(requestJson);
  const length = host_fetch(changetype<usize>(request), <usize>request.byteLength);
  if (length < 0) return `{"ok":false,"error":{"code":"fetch_failed","message":"fetch is unavailable"}}`;
  const response = new ArrayBuffer(length);
  const copied = host_staged_read(changetype<usize>(response), <usize>length);
  return String.UTF8.decodeUnsafe(changetype<usize>(response), <usize>max(copied, 0));
}

/** A GET of `url`. */
export function fetchGet(url: string): string {
  return fetch(`{"method":"GET","url":${JSON.quote(url)}}`);
}

/** Just enough JSON: quote strings and look values up by a dotted path ("query.name", "headers.0"). */
export namespace JSON {
  export function quote(text: string): string {
    let out = '"';
    let run = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
      out += text.substring(run, i);
      if (c == 0x22) out += '\\"';
      else if (c == 0x5c) out += "\\\\";
      else if (c == 0x0a) out += "\\n";
      else if (c == 0x0d) out += "\\r";
      else if (c == 0x09) out += "\\t";
      else out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
      run = i + 1;
    }
    return out + text.substring(run) + '"';
  }

  /** The raw JSON text of the value at `path`, or null. */
  export function find(json: string, path: string): string | null {
    let at = 0;
    const segments = path.length ? path.split(".") : new Array<string>(0);
    for (let s = 0; s < segments.length; s++) {
      at = member(json, skipSpace(json, at), segments[s]);
      if (at < 0) return null;
    }
    at = skipSpace(json, at);
    const end = skipValue(json, at);
    return end < 0 ? null : json.substring(at, end);
  }

  /** The string at `path`, decoded, or null when missing or not a string. */
  export function getString(json: string, path: string): string | null {
    const raw = find(json, path);
    if (raw === null || raw.length < 2 || raw.charCodeAt(0) != 0x22) return null;
    return decodeString(raw, 0);
  }

  /** The number at `path`, or NaN. */
  export function getNumber(json: string, path: string): f64 {
    const raw = find(json, path);
    return raw === null ? NaN : parseFloat(raw);
  }

  function skipSpace(json: string, at: i32): i32 {
    while (at < json.length) {
      const c = json.charCodeAt(at);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      at++;
    }
    return at;
  }

  function skipString(json: string, at: i32): i32 {
    for (at++; at < json.length; at++) {
      const c = json.charCodeAt(at);
      if (c == 0x5c) at++;
      else if (c == 0x22) return at + 1;
    }
    return -1;
  }

  function skipValue(json: string, at: i32): i32 {
    if (at >= json.length) return -1;
    const first = json.charCodeAt(at);
    if (first == 0x22) return skipString(json, at);
    if (first == 0x7b || first == 0x5b) {
      let depth = 0;
      while (at < json.length) {
        const c = json.charCodeAt(at);
        if (c == 0x22) {
          at = skipString(json, at);
          if (at < 0) return -1;
          continue;
        }
        if (c == 0x7b || c == 0x5b) depth++;
        if ((c == 0x7d || c == 0x5d) && --depth == 0) return at + 1;
        at++;
      }
      return -1;
    }
    const start = at;
    while (at < json.length) {
      const c = json.charCodeAt(at);
      if (c == 0x2c || c == 0x7d || c == 0x5d || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) break;
      at++;
    }
    return at > start ? at : -1;
  }

  /** In the object or array at `at`, where the value for `segment` starts; -1 if absent. */
  function member(json: string, at: i32, segment: string): i32 {
    if (at >= json.length) return -1;
    const open = json.charCodeAt(at);
    if (open == 0x5b) {
      const index = I32.parseInt(segment);
      if (isNaN(<f64>index) || index < 0 || segment.length == 0) return -1;
      at = skipSpace(json, at + 1);
      for (let i = 0; at < json.length && json.charCodeAt(at) != 0x5d; i++) {
        if (i == index) return at;
        at = skipValue(json, at);
        if (at < 0) return -1;
        at = skipSpace(json, at);
        if (at < json.length && json.charCodeAt(at) == 0x2c) at = skipSpace(json, at + 1);
      }
      return -1;
    }
    if (open != 0x7b) return -1;
    at = skipSpace(json, at + 1);
    while (at < json.length && json.charCodeAt(at) == 0x22) {
      const keyEnd = skipString(json, at);
      if (keyEnd < 0) return -1;
      const key = decodeString(json, at);
      at = skipSpace(json, keyEnd);
      if (at >= json.length || json.charCodeAt(at) != 0x3a) return -1;
      at = skipSpace(json, at + 1);
      if (key == segment) return at;
      at = skipValue(json, at);
      if (at < 0) return -1;
      at = skipSpace(json, at);
      if (at < json.length && json.charCodeAt(at) == 0x2c) at = skipSpace(json, at + 1);
    }
    return -1;
  }

  /** Decode the JSON string literal starting at `at` (its opening quote). */
  function decodeString(json: string, at: i32): string {
    let out = "";
    let run = at + 1;
    let i = at + 1;
    while (i < json.length) {
      const c = json.charCodeAt(i);
      if (c == 0x22) break;
      if (c != 0x5c) {
        i++;
        continue;
      }
      out += json.substring(run, i);
      const escape = json.charCodeAt(i + 1);
      i += 2;
      if (escape == 0x6e) out += "\n";
      else if (escape == 0x74) out += "\t";
      else if (escape == 0x72) out += "\r";
      else if (escape == 0x62) out += "\b";
      else if (escape == 0x66) out += "\f";
      else if (escape == 0x75) {
        out += String.fromCharCode(I32.parseInt(json.substring(i, i + 4), 16));
        i += 4;
      } else out += String.fromCharCode(escape);
      run = i;
    }
    return out + json.substring(run, i);
  }
}

// ---- the ABI side (used by entry.ts) ---------------------------------------------------

export function alloc(length: usize): usize {
  return heap.alloc(length > 0 ? length : 1);
}

export function run(ptr: usize, length: usize, handler: (req: Request) => Response): u64 {
  const request = new Request(String.UTF8.decodeUnsafe(ptr, length));
  const reply = String.UTF8.encode(handler(request).reply);
  return (<u64>changetype<usize>(reply) << 32) | <u64>reply.byteLength;
}

/** `abort` (a throw, a failed assert): log the message, then trap (guest_error). */
export function abortHandler(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const where = fileName === null ? "" : ` (${fileName}:${line}:${column})`;
  log((message === null ? "abort" : message) + where, Level.Error);
  unreachable();
}
