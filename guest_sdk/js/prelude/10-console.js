  // ---- console --------------------------------------------------------------

  function inspect(value, depth, seen) {
    if (typeof value === "string") return depth === 0 ? value : JSON.stringify(value);
    if (typeof value === "function") return "[Function: " + (value.name || "anonymous") + "]";
    if (typeof value === "bigint") return value + "n";
    if (typeof value === "symbol" || value === undefined || value === null) return String(value);
    if (typeof value !== "object") return String(value);
    if (value instanceof Error) return value.stack ? value.name + ": " + value.message + "\n" + value.stack : String(value);
    if (seen.has(value)) return "[Circular]";
    if (depth > 3) return Array.isArray(value) ? "[Array]" : "[Object]";
    seen.add(value);
    let out;
    try {
      if (Array.isArray(value)) {
        out = "[ " + value.map((v) => inspect(v, depth + 1, seen)).join(", ") + " ]";
        if (value.length === 0) out = "[]";
      } else if (value instanceof Map) {
        out = "Map(" + value.size + ") { " + Array.from(value, ([k, v]) => inspect(k, depth + 1, seen) + " => " + inspect(v, depth + 1, seen)).join(", ") + " }";
      } else if (value instanceof Set) {
        out = "Set(" + value.size + ") { " + Array.from(value, (v) => inspect(v, depth + 1, seen)).join(", ") + " }";
      } else if (value instanceof Date) {
        out = isNaN(value) ? "Invalid Date" : value.toISOString();
      } else if (ArrayBuffer.isView(value)) {
        out = value.constructor.name + "(" + value.length + ") [ " + Array.prototype.slice.call(value, 0, 50).join(", ") + " ]";
      } else {
        const keys = Object.keys(value);
        const body = keys.map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)) + ": " + inspect(value[k], depth + 1, seen));
        const name = value.constructor && value.constructor !== Object && value.constructor.name ? value.constructor.name + " " : "";
        out = body.length ? name + "{ " + body.join(", ") + " }" : name + "{}";
      }
    } finally {
      seen.delete(value);
    }
    return out;
  }

  function format(args) {
    if (args.length === 0) return "";
    let first = args[0];
    let rest = 1;
    let out;
    if (typeof first === "string" && first.includes("%")) {
      out = first.replace(/%[sdifjoO%]/g, (m) => {
        if (m === "%%") return "%";
        if (rest >= args.length) return m;
        const a = args[rest++];
        if (m === "%s") return typeof a === "string" ? a : inspect(a, 1, new Set());
        if (m === "%d" || m === "%i") return String(m === "%i" ? parseInt(a) : Number(a));
        if (m === "%f") return String(parseFloat(a));
        if (m === "%j") { try { return JSON.stringify(a); } catch (e) { return "[Circular]"; } }
        return inspect(a, 1, new Set());
      });
    } else {
      out = inspect(first, 0, new Set());
    }
    for (; rest < args.length; rest++) out += " " + inspect(args[rest], 0, new Set());
    return out;
  }

  function logger(level) {
    return function (...args) { native.log(level, format(args)); };
  }
  const timers = new Map();
  const counts = new Map();
  const consoleObject = {
    log: logger(LEVELS.info), info: logger(LEVELS.info), debug: logger(LEVELS.debug),
    warn: logger(LEVELS.warn), error: logger(LEVELS.error),
    trace(...args) { native.log(LEVELS.debug, format(args) + "\n" + (new Error().stack || "")); },
    assert(condition, ...args) { if (!condition) native.log(LEVELS.error, "Assertion failed" + (args.length ? ": " + format(args) : "")); },
    dir(value) { native.log(LEVELS.info, inspect(value, 0, new Set())); },
    table(value) { native.log(LEVELS.info, inspect(value, 0, new Set())); },
    time(label = "default") { timers.set(label, performanceNow()); },
    timeEnd(label = "default") {
      if (timers.has(label)) { native.log(LEVELS.info, label + ": " + (performanceNow() - timers.get(label)).toFixed(3) + "ms"); timers.delete(label); }
    },
    count(label = "default") { const n = (counts.get(label) || 0) + 1; counts.set(label, n); native.log(LEVELS.info, label + ": " + n); },
  };
  define("console", consoleObject);
