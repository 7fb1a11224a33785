  // ---- storage: webtask's ctx.storage (one JSON document per function) and a Workers-style KV (env.KV) ----
  // Both go through the host's storage import (native.storage: one JSON request, one JSON answer;
  // guest_sdk/ABI.md, "The storage JSON"). The code is a lazy module (35-webidl.js), compiled into
  // the snapshot at deploy when the source names `storage` or `KV` (isolates/javascript.py,
  // LAZY_MODULE_HINTS); only then do ctx and env get the bindings (95-models.js). A function that
  // never names them pays nothing for them per call (measured: one property more on every ctx cost
  // each call ~900 fuel, ~1% of a hello; with the bindings on every call, +1.0% hello, +0.5% Workers).
  // Starting from the snapshot also means the document version a call saw never leaks into the next.

  const storageModule = lazyModule("storage", () => ({ native, bufferSourceBytes }));

/*@lazy storage
(function (prelude) {
  "use strict";
  const { native, bufferSourceBytes } = prelude;
  const NAMES = { storage_conflict: "StorageConflictError", storage_quota_exceeded: "QuotaExceededError",
                  storage_too_large: "RangeError", storage_invalid: "TypeError" };

  function storageError(error) {
    const e = new Error(error.message);
    e.name = NAMES[error.code] || "StorageError";
    e.code = error.code;
    if (error.code === "storage_conflict") e.statusCode = 409; // as webtask's
    return e;
  }
  function call(request) {
    const answer = JSON.parse(native.storage(JSON.stringify(request)));
    if (!answer.ok) throw storageError(answer.error);
    return answer;
  }
  // webtask calls back on a later turn, with (error) or (null, value); without a callback, a promise
  function settle(work, cb) {
    let value, error = null;
    try { value = work(); } catch (e) { error = e; }
    if (typeof cb !== "function") return error === null ? Promise.resolve(value) : Promise.reject(error);
    Promise.resolve().then(() => (error === null ? cb(null, value) : cb(error)));
    return undefined;
  }

  // -- ctx.storage: the version this call last read or wrote; a set without force is based on it --
  let version;
  function get(options, cb) {
    if (typeof options === "function") cb = options;
    return settle(() => {
      const answer = call({ op: "storage.get" });
      version = answer.version;
      return answer.version === 0 ? undefined : answer.data;
    }, cb);
  }
  function set(data, options, cb) {
    if (typeof options === "function") { cb = options; options = undefined; }
    const force = Boolean(options && options.force);
    return settle(() => {
      if (data === undefined) throw new TypeError("ctx.storage.set: data is required");
      const request = { op: "storage.set", data, force };
      if (!force && version !== undefined) request.version = version;
      version = call(request).version;
      return undefined;
    }, cb);
  }

  // -- env.KV --
  const TYPES = ["text", "json", "arrayBuffer"];
  function keyOf(key) {
    if (key === undefined || key === null) throw new TypeError("a KV key is required");
    return String(key);
  }
  const kv = {
    get(key, options) {
      const type = typeof options === "string" ? options : (options && options.type) || "text";
      return settle(() => {
        if (!TYPES.includes(type)) throw new TypeError("KV get: type must be one of " + TYPES.join(", "));
        const answer = call({ op: "kv.get", key: keyOf(key) });
        let text = answer.value, bytes;
        if (answer.value_base64 !== undefined) bytes = native.base64Decode(answer.value_base64);
        else if (text === null || text === undefined) return null;
        if (type === "arrayBuffer") {
          if (bytes === undefined) bytes = native.utf8Encode(text);
          return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        }
        if (text === undefined) text = native.utf8Decode(bytes, false);
        return type === "json" ? JSON.parse(text) : text;
      });
    },
    put(key, value, options) {
      return settle(() => {
        const request = { op: "kv.put", key: keyOf(key) };
        if (typeof value === "string") request.value = value;
        else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) request.value_base64 = native.base64Encode(bufferSourceBytes(value));
        else throw new TypeError("KV put: the value must be a string, an ArrayBuffer or an ArrayBufferView");
        if (options && options.expirationTtl !== undefined) request.expiration_ttl = Number(options.expirationTtl);
        if (options && options.expiration !== undefined) request.expiration = Number(options.expiration);
        call(request);
        return undefined;
      });
    },
    delete(key) {
      return settle(() => { call({ op: "kv.delete", key: keyOf(key) }); return undefined; });
    },
    list(options) {
      return settle(() => {
        const request = { op: "kv.list" };
        if (options && options.prefix !== undefined && options.prefix !== null) request.prefix = String(options.prefix);
        if (options && options.limit !== undefined) request.limit = Number(options.limit);
        if (options && options.cursor) request.cursor = String(options.cursor);
        const answer = call(request);
        const page = { keys: answer.keys, list_complete: answer.list_complete };
        if (!answer.list_complete) page.cursor = answer.cursor;
        return page;
      });
    },
  };
  return { storage: { get, set }, kv };
})
@end*/
