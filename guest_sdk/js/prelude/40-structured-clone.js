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
