  // ---- errors ------------------------------------------------------------------

  function isOutOfMemory(error) {
    return (error instanceof InternalError && /out of memory/.test(error.message)) || (error === null && native.allocationFailures() > 0);
  }
  function classify(error, fallback) {
    if (isOutOfMemory(error)) return "memory_limit";
    if (native.allocationFailures() > 0 && !(error instanceof Error && !(error instanceof InternalError || error instanceof RangeError))) return "memory_limit";
    if (error instanceof RangeError && /call stack size exceeded|stack overflow/i.test(error.message)) return "stack_overflow";
    return fallback;
  }
  function errorRecord(error, code) {
    if (error === null && native.allocationFailures() > 0) {
      return { code: "memory_limit", name: "InternalError", message: "out of memory", stack: "" };
    }
    if (error instanceof Error) {
      return { code: classify(error, code), name: String(error.name), message: String(error.message), stack: String(error.stack || "") };
    }
    let message;
    try { message = typeof error === "string" ? error : JSON.stringify(error); } catch (e) { message = String(error); }
    if (message === undefined) message = String(error);
    const record = { code: classify(error, code), name: "Error", message, stack: "" };
    if (error && typeof error === "object" && typeof error.message === "string") record.message = error.message;
    return record;
  }
  function describeError(error, code) {
    return JSON.stringify({ ok: false, error: errorRecord(error, code) });
  }
