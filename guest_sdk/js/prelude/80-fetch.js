  // ---- fetch ------------------------------------------------------------------------
  // http(s) goes through the host (native.fetch: synchronous, behind the egress
  // policy); data: URLs are answered here (Fetch's data: URL processor), with no
  // network. The host call runs in a promise job, so an AbortSignal that aborts
  // before then stops it; an abort after the response errors its body.
  // A lazy module (35-webidl.js), with Request's constructor and MIME types.

  const nativeAtob = g.atob;
  const fetchModule = lazyModule("fetch", () => ({
    native, g, INTERNAL, nativeAtob, isObjectValue, dictionaryOf, toUSVString, resolvedWith, rejectedWith, upon, markHandled, newDeferred,
    resolveDeferred, rejectDeferred, doNothing, wireBody, bodyFromWire, isAbortSignal, signalState, addAbortAlgorithm, eventsModule,
    streamsModule, blobModule, httpModule
  }));
  define("fetch", function fetch(input, init = undefined) { return fetchModule().fetch(input, init); });

/*@lazy fetch
(function (prelude) {
  "use strict";
  const {
    native, g, INTERNAL, nativeAtob, isObjectValue, dictionaryOf, toUSVString, resolvedWith, rejectedWith, upon, markHandled, newDeferred,
    resolveDeferred, rejectDeferred, doNothing, wireBody, bodyFromWire, isAbortSignal, signalState, addAbortAlgorithm, eventsModule,
    streamsModule, blobModule, httpModule
  } = prelude;
  const {
    TOKEN, HTTP_WHITESPACE, toByteString, convertHeadersInit, headersRecord, newHeaders, fillHeaders, getHeader, Request, requestRecord,
    bodyRecord, newBodyRecord, newResponse, isBodyUnusable, extractBody, setContentType, cloneBodyContents, bodyBytes, bodyText,
    settledBodyContents, QUOTED_STRING_TOKEN, toUnsignedShort, copyRequestRecord
  } = httpModule();

  function apiBaseURL() {
    const location = g.location;
    return location !== undefined && location !== null && typeof location.href === "string" ? location.href : undefined;
  }
  function parseURL(input, base, what) {
    try { return base === undefined ? new URL(input) : new URL(input, base); } catch (e) { throw new TypeError(what + " is not a valid URL: " + input); }
  }
  function enumMember(dict, name, values) {
    const v = dict[name];
    if (v === undefined) return undefined;
    const s = String(v);
    if (!values.includes(s)) throw new TypeError("'" + s + "' is not a valid value for " + name);
    return s;
  }
  const NORMALIZED_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
  const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];
  const REFERRER_POLICIES = ["", "no-referrer", "no-referrer-when-downgrade", "same-origin", "origin", "strict-origin", "origin-when-cross-origin", "strict-origin-when-cross-origin", "unsafe-url"];

  // Request's constructor (Fetch 5.4), for 70-http.js
  function newRequest(argumentCount, input, init) {
    if (argumentCount === 0) throw new TypeError("Failed to construct 'Request': 1 argument required");
    // WebIDL: RequestInit's members in lexicographic order
    const dict = dictionaryOf(init, "RequestInit");
    const initBody = dict.body;
    const cache = enumMember(dict, "cache", ["default", "no-store", "reload", "no-cache", "force-cache", "only-if-cached"]);
    const credentials = enumMember(dict, "credentials", ["omit", "same-origin", "include"]);
    const duplex = enumMember(dict, "duplex", ["half"]);
    const initHeaders = dict.headers === undefined ? undefined : convertHeadersInit(dict.headers);
    const integrity = dict.integrity === undefined ? undefined : String(dict.integrity);
    const keepalive = dict.keepalive === undefined ? undefined : !!dict.keepalive;
    const initMethod = dict.method === undefined ? undefined : toByteString(dict.method);
    const initMode = enumMember(dict, "mode", ["navigate", "same-origin", "no-cors", "cors"]);
    const priority = enumMember(dict, "priority", ["high", "low", "auto"]);
    const redirect = enumMember(dict, "redirect", ["follow", "error", "manual"]);
    const referrer = dict.referrer === undefined ? undefined : toUSVString(dict.referrer);
    const referrerPolicy = enumMember(dict, "referrerPolicy", REFERRER_POLICIES);
    const initSignal = dict.signal;
    if (initSignal !== undefined && initSignal !== null && !isAbortSignal(initSignal)) throw new TypeError("RequestInit.signal is not an AbortSignal");
    const window = dict.window;
    const cf = dict.cf;
    const initIsEmpty = [initBody, cache, credentials, duplex, initHeaders, integrity, keepalive, initMethod, initMode, priority, redirect,
      referrer, referrerPolicy, initSignal, window].every((v) => v === undefined);

    const baseURL = apiBaseURL();
    let request, fallbackMode = null, signal = null, inputRecord = null;
    if (input instanceof Request) {
      inputRecord = requestRecord(input);
      request = copyRequestRecord(inputRecord, { signal: null });
      signal = inputRecord.signal;
    } else {
      const parsed = parseURL(toUSVString(input), baseURL, "Request URL");
      if (parsed.username !== "" || parsed.password !== "") throw new TypeError("Request URL includes credentials: " + parsed.href);
      request = { method: "GET", url: parsed.href, headers: null, destination: "", referrer: "client", referrerPolicy: "", mode: "cors",
        credentials: "same-origin", cache: "default", redirect: "follow", integrity: "", keepalive: false, reloadNavigation: false,
        historyNavigation: false, signal: null, duplex: "half", priority: "auto", cf: undefined };
      fallbackMode = "cors";
    }
    if (window !== undefined && window !== null) throw new TypeError("RequestInit.window can only be null");
    if (!initIsEmpty) {
      if (request.mode === "navigate") request.mode = "same-origin";
      request.reloadNavigation = false;
      request.historyNavigation = false;
      request.referrer = "client";
      request.referrerPolicy = "";
    }
    if (referrer !== undefined) {
      if (referrer === "") request.referrer = "no-referrer";
      else {
        const parsedReferrer = parseURL(referrer, baseURL, "RequestInit.referrer");
        const sameOrigin = baseURL !== undefined && parsedReferrer.origin === new URL(baseURL).origin;
        request.referrer = (parsedReferrer.protocol === "about:" && parsedReferrer.pathname === "client") || !sameOrigin ? "client" : parsedReferrer.href;
      }
    }
    if (referrerPolicy !== undefined) request.referrerPolicy = referrerPolicy;
    const mode = initMode !== undefined ? initMode : fallbackMode;
    if (mode === "navigate") throw new TypeError("RequestInit.mode cannot be 'navigate'");
    if (mode !== null) request.mode = mode;
    if (credentials !== undefined) request.credentials = credentials;
    if (cache !== undefined) request.cache = cache;
    if (request.cache === "only-if-cached" && request.mode !== "same-origin") throw new TypeError("'only-if-cached' can be set only with 'same-origin' mode");
    if (redirect !== undefined) request.redirect = redirect;
    if (integrity !== undefined) request.integrity = integrity;
    if (keepalive !== undefined) request.keepalive = keepalive;
    if (initMethod !== undefined) {
      if (!TOKEN.test(initMethod)) throw new TypeError("'" + initMethod + "' is not a valid HTTP method");
      const upper = initMethod.toUpperCase();
      if (FORBIDDEN_METHODS.includes(upper)) throw new TypeError("'" + initMethod + "' HTTP method is unsupported");
      request.method = NORMALIZED_METHODS.includes(upper) ? upper : initMethod;
    }
    if (initSignal !== undefined) signal = initSignal;
    if (priority !== undefined) request.priority = priority;
    if (cf !== undefined) request.cf = cf;
    request.signal = signal === null ? null : eventsModule().AbortSignal.any([signal]);

    // headers
    const guard = request.mode === "no-cors" ? "request-no-cors" : "request";
    let headerPairs = inputRecord !== null ? headersRecord(inputRecord.headers).list.map((p) => p.slice()) : [];
    if (request.mode === "no-cors" && !["GET", "HEAD", "POST"].includes(request.method)) throw new TypeError("'" + request.method + "' is unsupported in no-cors mode");
    const headers = newHeaders([], guard);
    const hr = headersRecord(headers);
    if (initHeaders !== undefined) fillHeaders(hr, initHeaders);
    else hr.list = headerPairs;
    request.headers = headers;

    // body
    const inputBody = inputRecord !== null ? bodyRecord(input) : null;
    const hasInputBody = inputBody !== null && inputBody.body !== null;
    if (((initBody !== undefined && initBody !== null) || hasInputBody) && (request.method === "GET" || request.method === "HEAD")) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    let finalBody = null;
    if (initBody !== undefined && initBody !== null) {
      const extracted = extractBody(initBody, request.keepalive);
      finalBody = extracted.body;
      setContentType(headers, extracted.type);
    }
    const inputOrInitBody = finalBody !== null ? finalBody : hasInputBody ? inputBody.body : null;
    if (inputOrInitBody !== null && inputOrInitBody.fromStream) {
      if (finalBody !== null && duplex === undefined) throw new TypeError("RequestInit.duplex is required when the body is a ReadableStream");
      if (request.mode !== "same-origin" && request.mode !== "cors") throw new TypeError("A ReadableStream body needs mode 'same-origin' or 'cors'");
    }
    if (finalBody === null && hasInputBody) {
      if (isBodyUnusable(inputBody)) throw new TypeError("The input Request's body has already been used");
      finalBody = proxyBody(inputBody);
    }
    return { request, bodyRecord: newBodyRecord(finalBody, headers) };
  }
  function cloneRequest(r, b) {
    if (isBodyUnusable(b)) throw new TypeError("Request.clone: the body has already been used");
    const hr = headersRecord(r.headers);
    const headers = newHeaders(hr.list.map((p) => p.slice()), hr.guard);
    const request = copyRequestRecord(r, { headers, signal: r.signal === null ? null : eventsModule().AbortSignal.any([r.signal]) });
    return { request, bodyRecord: newBodyRecord(cloneBodyContents(b), headers) };
  }
  // The body of `new Request(request)`: the input's contents move over and the input is used.
  function proxyBody(inputBody) {
    const b = inputBody.body;
    if (!b.stream) { inputBody.used = true; return { text: b.text, bytes: b.bytes }; }
    const streams = streamsModule();
    const t = streams.tsRecord(new streams.TransformStream());
    markHandled(streams.readableStreamPipeTo(b.stream, t.writable, false, false, false, undefined));
    return { stream: t.readable, fromStream: b.fromStream };
  }

  // ---- MIME types (MIME Sniffing 4.4-4.5) ----
  function parseMimeType(input) {
    input = input.replace(HTTP_WHITESPACE, "");
    let position = 0;
    const slash = input.indexOf("/");
    if (slash < 0) return null;
    const type = input.slice(0, slash);
    if (!TOKEN.test(type)) return null;
    position = slash + 1;
    let semicolon = input.indexOf(";", position);
    if (semicolon < 0) semicolon = input.length;
    const subtype = input.slice(position, semicolon).replace(/[\t\n\r ]+$/, "");
    if (!TOKEN.test(subtype)) return null;
    const mime = { type: type.toLowerCase(), subtype: subtype.toLowerCase(), parameters: new Map() };
    position = semicolon;
    while (position < input.length) {
      position++; // ";"
      while (position < input.length && /[\t\n\r ]/.test(input[position])) position++;
      let end = position;
      while (end < input.length && input[end] !== ";" && input[end] !== "=") end++;
      const name = input.slice(position, end).toLowerCase();
      position = end;
      if (position < input.length) {
        if (input[position] === ";") continue;
        position++; // "="
      }
      if (position >= input.length) break;
      let value;
      if (input[position] === "\"") {
        [value, position] = collectQuotedString(input, position);
        while (position < input.length && input[position] !== ";") position++;
      } else {
        end = input.indexOf(";", position);
        if (end < 0) end = input.length;
        value = input.slice(position, end).replace(/[\t\n\r ]+$/, "");
        position = end;
        if (value === "") continue;
      }
      if (name !== "" && TOKEN.test(name) && QUOTED_STRING_TOKEN.test(value) && !mime.parameters.has(name)) mime.parameters.set(name, value);
    }
    return mime;
  }
  function collectQuotedString(input, position) {
    let value = "";
    position++;
    for (;;) {
      while (position < input.length && input[position] !== "\"" && input[position] !== "\\") value += input[position++];
      if (position >= input.length) break;
      const c = input[position++];
      if (c === "\\") {
        if (position >= input.length) { value += "\\"; break; }
        value += input[position++];
      } else break;
    }
    return [value, position];
  }
  function serializeMimeType(mime) {
    let out = mime.type + "/" + mime.subtype;
    for (const [name, value] of mime.parameters) {
      out += ";" + name + "=";
      out += value !== "" && TOKEN.test(value) ? value : "\"" + value.replace(/(["\\])/g, "\\$1") + "\"";
    }
    return out;
  }
  // Fetch's "extract a MIME type" from a header list; null on failure
  function extractMimeType(h) {
    const combined = getHeader(h, "content-type");
    if (combined === null) return null;
    let mimeType = null, charset = null, essence = null;
    for (const value of splitHeaderValue(combined)) {
      const temp = parseMimeType(value);
      if (temp === null || (temp.type === "*" && temp.subtype === "*")) continue;
      mimeType = temp;
      const tempEssence = temp.type + "/" + temp.subtype;
      if (essence !== tempEssence) {
        charset = null;
        if (temp.parameters.has("charset")) charset = temp.parameters.get("charset");
        essence = tempEssence;
      } else if (!temp.parameters.has("charset") && charset !== null) {
        temp.parameters.set("charset", charset);
      }
    }
    return mimeType;
  }
  function splitHeaderValue(value) {
    const out = [];
    let position = 0, current = "";
    while (position < value.length) {
      while (position < value.length && value[position] !== "\"" && value[position] !== ",") current += value[position++];
      if (position < value.length && value[position] === "\"") {
        const start = position;
        position = collectQuotedString(value, position)[1];
        current += value.slice(start, position);
        if (position < value.length) continue;
      } else if (position < value.length) position++;
      out.push(current.replace(/^[\t ]+|[\t ]+$/g, ""));
      current = "";
    }
    if (current !== "" || value.endsWith(",")) out.push(current.replace(/^[\t ]+|[\t ]+$/g, ""));
    return out;
  }

  function blobOf(r, b) {
    const mime = extractMimeType(headersRecord(r.headers));
    return blobModule().newBlob(b.bytes !== undefined ? b.bytes : native.utf8Encode(b.text), mime === null ? "" : serializeMimeType(mime));
  }
  function formDataOf(r, b) {
    const mime = extractMimeType(headersRecord(r.headers));
    const essence = mime === null ? "" : mime.type + "/" + mime.subtype;
    if (essence === "multipart/form-data") {
      const boundary = mime.parameters.get("boundary");
      if (boundary === undefined) throw new TypeError("multipart/form-data without a boundary");
      return blobModule().parseMultipart(bodyBytes(b), boundary);
    }
    if (essence === "application/x-www-form-urlencoded") {
      const form = new (blobModule().FormData)();
      for (const [k, v] of new URLSearchParams(bodyText(b))) form.append(k, v);
      return form;
    }
    throw new TypeError("The body's Content-Type is not multipart/form-data or application/x-www-form-urlencoded");
  }

  // Fetch 4.x "data: URL processor" (RFC 2397 as browsers do it); null on failure
  function processDataURL(href) {
    let input = href.slice(5); // "data:"
    const hash = input.indexOf("#");
    if (hash >= 0) input = input.slice(0, hash);
    const comma = input.indexOf(",");
    if (comma < 0) return null;
    let mimeType = input.slice(0, comma).replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "");
    let body = percentDecode(input.slice(comma + 1));
    const base64 = /;[\x20]*base64$/i.exec(mimeType);
    if (base64) {
      let binary;
      try { binary = nativeAtob(isomorphicDecode(body)); } catch (e) { return null; }
      body = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) body[i] = binary.charCodeAt(i);
      mimeType = mimeType.slice(0, base64.index);
    }
    if (mimeType.startsWith(";")) mimeType = "text/plain" + mimeType;
    const record = parseMimeType(mimeType);
    return { mimeType: record === null ? "text/plain;charset=US-ASCII" : serializeMimeType(record), body };
  }
  function isomorphicDecode(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return out;
  }
  function percentDecode(text) {
    const bytes = native.utf8Encode(text);
    if (!bytes.includes(0x25)) return bytes;
    const out = new Uint8Array(bytes.length);
    let o = 0;
    const hex = (b) => (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x41 && b <= 0x46 ? b - 0x37 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x25 && i + 2 < bytes.length && hex(bytes[i + 1]) >= 0 && hex(bytes[i + 2]) >= 0) {
        out[o++] = hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]);
        i += 2;
      } else out[o++] = b;
    }
    return out.slice(0, o);
  }

  function fetchFromHost(r, contents) {
    const wire = wireBody(contents, { url: r.url, method: r.method, headers: headersRecord(r.headers).list, redirect: r.redirect });
    const answer = JSON.parse(native.fetch(JSON.stringify(wire)));
    if (!answer.ok) {
      const error = new TypeError("fetch failed: " + answer.error.code + ": " + answer.error.message);
      error.code = answer.error.code;
      throw error;
    }
    const list = (answer.headers || []).map((p) => [String(p[0]).toLowerCase(), String(p[1])]);
    return newResponse({ type: "basic", url: answer.url || r.url, redirected: !!answer.redirected, status: answer.status,
      statusText: answer.statusText || "", headers: newHeaders(list, "immutable") }, bodyFromWire(answer));
  }
  function fetchDataURL(r) {
    const data = processDataURL(r.url);
    if (data === null) throw new TypeError("fetch failed: invalid data: URL");
    return newResponse({ type: "basic", url: r.url, redirected: false, status: 200, statusText: "OK",
      headers: newHeaders([["content-type", data.mimeType]], "immutable") }, { bytes: data.body });
  }

  function fetch(input, init) {
    let request;
    try { request = new Request(input, init); } catch (e) { return rejectedWith(e); }
    const r = requestRecord(request);
    const signal = r.signal;
    if (signal !== null && signalState(signal).aborted) return rejectedWith(signalState(signal).reason);
    const d = newDeferred();
    let response = null;
    let removeAbort = doNothing;
    if (signal !== null) {
      removeAbort = addAbortAlgorithm(signal, () => {
        const reason = signalState(signal).reason;
        rejectDeferred(d, reason);
        if (response !== null) {
          const b = bodyRecord(response);
          if (b.body !== null && b.body.stream) streamsModule().errorStream(b.body.stream, reason);
          else b.error = reason;
        }
      });
    }
    const b = bodyRecord(request);
    let contents;
    try { contents = settledBodyContents(b); } catch (e) { removeAbort(); return rejectedWith(e); }
    if (b.body !== null && !b.body.stream) b.used = true;
    upon(resolvedWith(contents), (settled) => {
      if (!d.pending) return;
      try {
        response = r.url.startsWith("data:") ? fetchDataURL(r) : fetchFromHost(r, settled);
        resolveDeferred(d, response);
      } catch (e) {
        removeAbort();
        rejectDeferred(d, e);
      }
    }, (e) => { removeAbort(); rejectDeferred(d, e); });
    return d.promise;
  }

  function redirectResponse(url, status) {
    const parsed = parseURL(toUSVString(url), apiBaseURL(), "Response.redirect URL");
    status = toUnsignedShort(status);
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError("Invalid redirect status " + status);
    const headers = newHeaders([["location", parsed.href]], "immutable");
    return newResponse({ type: "default", url: "", redirected: false, status, statusText: "", headers }, null);
  }

  return { newRequest, cloneRequest, redirectResponse, blobOf, formDataOf, fetch, parseMimeType, serializeMimeType };
})
@end*/
