// node:util for wasmtask functions (toolchains/bundler.py maps `node:util` and `util` here).
// The parts that make sense without Node's I/O: format, inspect (a compact one), promisify,
// callbackify, inherits, deprecate, isDeepStrictEqual, types, TextEncoder/TextDecoder.

const customInspect = Symbol.for("nodejs.util.inspect.custom");
const customPromisify = Symbol.for("nodejs.util.promisify.custom");

function typeName(value) {
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  return tag;
}

function quote(text) {
  return "'" + String(text).replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n") + "'";
}

function keyText(key) {
  return typeof key === "symbol" ? "[" + key.toString() + "]" : /^[A-Za-z_$][\w$]*$/.test(key) ? key : quote(key);
}

function inspectValue(value, options, depth, seen) {
  if (value === null) return "null";
  switch (typeof value) {
    case "undefined": return "undefined";
    case "string": return depth === 0 && options.topLevelString ? value : quote(value);
    case "number": return Object.is(value, -0) ? "-0" : String(value);
    case "bigint": return value + "n";
    case "boolean": return String(value);
    case "symbol": return value.toString();
    case "function": {
      const kind = typeName(value) === "AsyncFunction" ? "AsyncFunction" : /^class\b/.test(Function.prototype.toString.call(value)) ? "class" : "Function";
      return kind === "class" ? "[class " + (value.name || "(anonymous)") + "]" : "[" + kind + (value.name ? ": " + value.name : " (anonymous)") + "]";
    }
  }
  if (typeof value[customInspect] === "function") {
    const shown = value[customInspect](options.depth - depth, options, inspect);
    return typeof shown === "string" ? shown : inspectValue(shown, options, depth, seen);
  }
  if (seen.includes(value)) return "[Circular]";
  if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
  if (value instanceof RegExp) return String(value);
  if (value instanceof Error) return value.stack || String(value);
  if (value instanceof Promise) return "Promise { <pending> }";
  if (value instanceof WeakMap || value instanceof WeakSet) return typeName(value) + " { <items unknown> }";
  const tooDeep = options.depth !== null && depth > options.depth;
  const next = (item) => inspectValue(item, options, depth + 1, seen.concat([value]));
  let prefix = "", parts = [], braces = ["{", "}"];
  if (Array.isArray(value)) {
    if (tooDeep) return "[Array]";
    braces = ["[", "]"];
    const shown = Math.min(value.length, options.maxArrayLength);
    for (let i = 0; i < shown; i++) parts.push(i in value ? next(value[i]) : "<empty>");
    if (value.length > shown) parts.push("... " + (value.length - shown) + " more items");
  } else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (tooDeep) return "[" + typeName(value) + "]";
    prefix = typeName(value) + "(" + value.length + ") ";
    braces = ["[", "]"];
    const shown = Math.min(value.length, options.maxArrayLength);
    for (let i = 0; i < shown; i++) parts.push(String(value[i]));
    if (value.length > shown) parts.push("... " + (value.length - shown) + " more items");
  } else if (value instanceof Map) {
    if (tooDeep) return "[Map]";
    prefix = "Map(" + value.size + ") ";
    for (const [k, v] of value) parts.push(next(k) + " => " + next(v));
  } else if (value instanceof Set) {
    if (tooDeep) return "[Set]";
    prefix = "Set(" + value.size + ") ";
    for (const v of value) parts.push(next(v));
  } else {
    const name = value.constructor && value.constructor !== Object && typeof value.constructor.name === "string" ? value.constructor.name : Object.getPrototypeOf(value) === null ? "[Object: null prototype]" : "";
    if (tooDeep) return "[" + (name || "Object") + "]";
    if (name) prefix = name + " ";
  }
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (!descriptor.enumerable) continue;
      parts.push(keyText(key) + ": " + ("value" in descriptor ? next(descriptor.value) : "[Getter" + (descriptor.set ? "/Setter" : "") + "]"));
    }
  }
  if (parts.length === 0) return prefix + braces[0] + braces[1];
  const oneLine = prefix + braces[0] + " " + parts.join(", ") + " " + braces[1];
  if (oneLine.length <= options.breakLength) return oneLine;
  const indent = "  ".repeat(depth + 1);
  return prefix + braces[0] + "\n" + indent + parts.join(",\n" + indent) + "\n" + "  ".repeat(depth) + braces[1];
}

export function inspect(value, options) {
  const settings = { depth: 2, maxArrayLength: 100, breakLength: 80, ...(typeof options === "object" && options !== null ? options : {}) };
  if (settings.depth === Infinity) settings.depth = null;
  return inspectValue(value, settings, 0, []);
}
inspect.custom = customInspect;

export function format(first, ...args) {
  if (typeof first !== "string") return [first, ...args].map((item) => typeof item === "string" ? item : inspect(item)).join(" ");
  let index = 0;
  let text = first.replace(/%([sdifjoOc%])/g, (match, kind) => {
    if (kind === "%") return "%";
    if (index >= args.length) return match;
    const arg = args[index++];
    switch (kind) {
      case "s": return typeof arg === "string" ? arg : typeof arg === "bigint" ? arg + "n" : typeof arg === "object" && arg !== null ? inspect(arg, { depth: 0 }) : String(arg);
      case "d": return typeof arg === "bigint" ? arg + "n" : String(Number(arg));
      case "i": return typeof arg === "bigint" ? arg + "n" : String(parseInt(arg, 10));
      case "f": return String(parseFloat(arg));
      case "j": try { return JSON.stringify(arg); } catch (error) { return "[Circular]"; }
      case "o": case "O": return inspect(arg, { depth: kind === "o" ? 4 : 2 });
      case "c": return "";
    }
    return match;
  });
  for (; index < args.length; index++) text += " " + (typeof args[index] === "string" ? args[index] : inspect(args[index]));
  return text;
}

export function formatWithOptions(options, ...args) {
  return format(...args);
}

export function promisify(original) {
  if (typeof original !== "function") throw new TypeError('The "original" argument must be of type function');
  if (typeof original[customPromisify] === "function") return original[customPromisify];
  function promisified(...args) {
    return new Promise((resolve, reject) => {
      original.call(this, ...args, (error, value) => (error ? reject(error) : resolve(value)));
    });
  }
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(original));
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = customPromisify;

export function callbackify(original) {
  if (typeof original !== "function") throw new TypeError('The "original" argument must be of type function');
  return function (...args) {
    const callback = args.pop();
    if (typeof callback !== "function") throw new TypeError("The last argument must be of type function");
    original.apply(this, args).then(
      (value) => callback(null, value),
      (reason) => callback(reason || Object.assign(new Error("Promise was rejected with a falsy value"), { reason })),
    );
  };
}

export function inherits(constructor, superConstructor) {
  Object.defineProperty(constructor, "super_", { value: superConstructor, writable: true, configurable: true });
  Object.setPrototypeOf(constructor.prototype, superConstructor.prototype);
}

const warned = new Set();
export function deprecate(fn, message, code) {
  return function (...args) {
    const key = code || message;
    if (!warned.has(key)) { warned.add(key); console.warn("DeprecationWarning: " + message); }
    return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
  };
}

export function debuglog() {
  const log = () => {};
  log.enabled = false;
  return log;
}

export function isDeepStrictEqual(a, b) {
  return deepEqual(a, b, []);
}

function deepEqual(a, b, seen) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.some(([x, y]) => x === a && y === b)) return true;
  seen = seen.concat([[a, b]]);
  if (a instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof RegExp) return String(a) === String(b);
  if (ArrayBuffer.isView(a)) {
    if (a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.every((byte, i) => byte === y[i]);
  }
  if (a instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [key, value] of a) if (!b.has(key) || !deepEqual(value, b.get(key), seen)) return false;
    return true;
  }
  if (a instanceof Set) {
    if (a.size !== b.size) return false;
    for (const value of a) if (!b.has(value)) return false;
    return true;
  }
  const keysA = Reflect.ownKeys(a).filter((k) => Object.prototype.propertyIsEnumerable.call(a, k));
  const keysB = Reflect.ownKeys(b).filter((k) => Object.prototype.propertyIsEnumerable.call(b, k));
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.prototype.propertyIsEnumerable.call(b, key) && deepEqual(a[key], b[key], seen));
}

const tag = (name) => (value) => typeName(value) === name;
export const types = {
  isDate: (value) => value instanceof Date,
  isRegExp: (value) => value instanceof RegExp,
  isPromise: (value) => value instanceof Promise,
  isMap: (value) => value instanceof Map,
  isSet: (value) => value instanceof Set,
  isWeakMap: (value) => value instanceof WeakMap,
  isWeakSet: (value) => value instanceof WeakSet,
  isNativeError: (value) => value instanceof Error,
  isArrayBuffer: (value) => value instanceof ArrayBuffer,
  isSharedArrayBuffer: (value) => typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer,
  isAnyArrayBuffer: (value) => value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer),
  isArrayBufferView: (value) => ArrayBuffer.isView(value),
  isDataView: (value) => value instanceof DataView,
  isTypedArray: (value) => ArrayBuffer.isView(value) && !(value instanceof DataView),
  isUint8Array: (value) => value instanceof Uint8Array,
  isAsyncFunction: tag("AsyncFunction"),
  isGeneratorFunction: (value) => tag("GeneratorFunction")(value) || tag("AsyncGeneratorFunction")(value),
  isGeneratorObject: tag("Generator"),
  isBoxedPrimitive: (value) => value instanceof Number || value instanceof String || value instanceof Boolean,
  isSymbolObject: (value) => typeof value === "object" && value !== null && tag("Symbol")(value),
};

export const isArray = Array.isArray;
export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;

export function stripVTControlCharacters(text) {
  return String(text).replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

export default {
  format, formatWithOptions, inspect, promisify, callbackify, inherits, deprecate, debuglog, isDeepStrictEqual,
  types, isArray, TextEncoder, TextDecoder, stripVTControlCharacters,
};
