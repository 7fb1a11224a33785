  // ---- structuredClone ------------------------------------------------------------
  // HTML's StructuredSerialize/Deserialize in one pass: primitives, the wrapper
  // objects, Date, RegExp, ArrayBuffer (resizable too) and its views, Map, Set, the
  // Error types, DOMException, Blob and File, arrays and plain objects; anything
  // else with internal state (functions, symbols, promises, weak collections, the
  // platform objects) is a DataCloneError. transfer: ArrayBuffers only.
  // A lazy module (35-webidl.js).

  const cloneModule = lazyModule("clone", () => ({ g, isBlobValue, blobModule, isFormDataValue, streamsModule, STREAM_CLASSES, httpModule }));
  lazyGlobals(["structuredClone"], cloneModule);
  function structuredCloneValue(value) { return cloneModule().structuredCloneValue(value); }

/*@lazy clone
(function (prelude) {
  "use strict";
  const { g, isBlobValue, blobModule, isFormDataValue, streamsModule, STREAM_CLASSES, httpModule } = prelude;

  function dataCloneError(message) { return new DOMException(message, "DataCloneError"); }
  const ERROR_TYPES = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
  const UNCLONEABLE = ["Promise", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "EventTarget", "Event", "AbortController",
    "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "CryptoKey"];
  let uncloneable = null; // constructors, looked up on first use (some are defined later in the prelude)
  function isUncloneable(value) {
    if (uncloneable === null) uncloneable = UNCLONEABLE.map((name) => g[name]).filter((C) => typeof C === "function");
    for (const C of uncloneable) if (value instanceof C) return true;
    if (isFormDataValue(value)) return true;
    if (httpModule.loaded()) { const http = httpModule(); if (value instanceof http.Headers || value instanceof http.Request || value instanceof http.Response) return true; }
    if (streamsModule.loaded()) { const streams = streamsModule(); for (const name of STREAM_CLASSES) if (value instanceof streams[name]) return true; }
    return false;
  }
  const typedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype);
  const typedArrayTag = Object.getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag).get;
  const objectToString = Object.prototype.toString;

  function cloneArrayBuffer(buffer) {
    if (buffer.detached) throw dataCloneError("An ArrayBuffer is detached and could not be cloned.");
    if (buffer.resizable) {
      const out = new ArrayBuffer(buffer.byteLength, { maxByteLength: buffer.maxByteLength });
      new Uint8Array(out).set(new Uint8Array(buffer));
      return out;
    }
    return buffer.slice(0);
  }

  function structuredCloneValue(value, memory = new Map()) {
    const type = typeof value;
    if (type === "symbol") throw dataCloneError("Symbol() could not be cloned.");
    if (value === null || (type !== "object" && type !== "function")) return value;
    if (memory.has(value)) return memory.get(value);
    if (type === "function") throw dataCloneError((value.name || "function") + " could not be cloned.");
    let out;
    const tag = objectToString.call(value);
    if (typedArrayTag.call(value) !== undefined) {
      const buffer = structuredCloneValue(value.buffer, memory);
      out = new value.constructor(buffer, value.byteOffset, value.length);
    } else if (value instanceof ArrayBuffer) {
      out = cloneArrayBuffer(value);
    } else if (value instanceof DataView) {
      out = new DataView(structuredCloneValue(value.buffer, memory), value.byteOffset, value.byteLength);
    } else if (value instanceof Date) {
      out = new Date(value.getTime());
    } else if (value instanceof RegExp) {
      out = new RegExp(value.source, value.flags);
    } else if (value instanceof Boolean || value instanceof Number || value instanceof String || (typeof BigInt === "function" && tag === "[object BigInt]")) {
      out = Object(value.valueOf());
    } else if (value instanceof Map) {
      out = new Map();
      memory.set(value, out);
      for (const [k, v] of Array.from(value)) out.set(structuredCloneValue(k, memory), structuredCloneValue(v, memory));
      return out;
    } else if (value instanceof Set) {
      out = new Set();
      memory.set(value, out);
      for (const v of Array.from(value)) out.add(structuredCloneValue(v, memory));
      return out;
    } else if (value instanceof DOMException) {
      out = new DOMException(value.message, value.name);
    } else if (isBlobValue(value)) {
      out = blobModule().cloneBlob(value);
    } else if (value instanceof Error) {
      let name = value.name;
      if (!Object.prototype.hasOwnProperty.call(ERROR_TYPES, name)) name = "Error";
      const messageDesc = Object.getOwnPropertyDescriptor(value, "message");
      out = new ERROR_TYPES[name]();
      if (messageDesc && "value" in messageDesc) Object.defineProperty(out, "message", { value: String(value.message), writable: true, configurable: true });
      else delete out.message;
      const stack = value.stack;
      if (stack !== undefined) Object.defineProperty(out, "stack", { value: String(stack), writable: true, configurable: true });
      const causeDesc = Object.getOwnPropertyDescriptor(value, "cause");
      if (causeDesc && "value" in causeDesc) {
        memory.set(value, out);
        Object.defineProperty(out, "cause", { value: structuredCloneValue(causeDesc.value, memory), writable: true, configurable: true });
      }
    } else if (Array.isArray(value)) {
      out = new Array(value.length);
      memory.set(value, out);
      for (const k of Object.keys(value)) out[k] = structuredCloneValue(value[k], memory);
      return out;
    } else {
      if (isUncloneable(value)) throw dataCloneError(tag.slice(8, -1) + " object could not be cloned.");
      if (tag !== "[object Object]" && tag !== "[object Arguments]" && tag.slice(8, -1) in g) throw dataCloneError(tag.slice(8, -1) + " object could not be cloned.");
      out = {};
      memory.set(value, out);
      for (const k of Object.keys(value)) out[k] = structuredCloneValue(value[k], memory);
      return out;
    }
    memory.set(value, out);
    return out;
  }

  function structuredClone(value, options = undefined) {
    if (arguments.length === 0) throw new TypeError("structuredClone: 1 argument required");
    if (options !== undefined && options !== null && typeof options !== "object") throw new TypeError("structuredClone: options must be an object");
    const transfer = options == null || options.transfer === undefined ? [] : Array.from(options.transfer);
    const memory = new Map();
    for (const item of transfer) {
      if (!(item instanceof ArrayBuffer)) throw dataCloneError("Value not transferable");
      if (memory.has(item)) throw dataCloneError("An ArrayBuffer is listed twice in the transfer list");
      if (item.detached) throw dataCloneError("An ArrayBuffer is detached and could not be transferred");
      memory.set(item, cloneArrayBuffer(item));
    }
    const out = structuredCloneValue(value, memory);
    for (const item of transfer) item.transfer(); // detach the originals only once the clone succeeded
    return out;
  }
  return { structuredClone, structuredCloneValue };
})
@end*/
