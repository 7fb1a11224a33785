  // ---- timers (virtual time: callbacks run in delay order, without waiting) ---------
  // HTML's timer initialization steps: the delay is a WebIDL long (so 2**32 wraps to
  // 0), negative delays are 0, and a timer set from a callback nested more than five
  // levels deep waits at least 4 ms. A callback that throws is reported (an error
  // log line) and later timers still run, as in browsers and Node.

  // HTML's "report an exception": an error log line, and the call goes on
  function reportException(error) {
    let text;
    try { text = error instanceof Error ? error.name + ": " + error.message + (error.stack ? "\n" + error.stack : "") : inspect(error, 0, new Set()); }
    catch (e) { text = "an exception"; }
    native.log(LEVELS.error, "Uncaught " + text);
  }

  let timerSequence = 0;
  let internalTimerSequence = 0;
  let timerOrder = 0; // creation order: equal due times run in it
  let timerClock = 0;
  let timerNesting = 0; // nesting level of the timer callback running now, 0 outside one
  const timerQueue = new Map();
  function addTimer(callback, delay, args, repeat, internal = false) {
    if (typeof callback !== "function") throw new TypeError("timer callback must be a function");
    let ms = delay | 0; // WebIDL long: ToNumber, then ToInt32
    if (ms < 0) ms = 0;
    if (!internal && timerNesting > 5 && ms < 4) ms = 4;
    const nesting = internal ? 0 : timerNesting + 1;
    const id = internal ? --internalTimerSequence : ++timerSequence;
    timerQueue.set(id, { callback, args, at: timerClock + ms, delay: ms, repeat, nesting, id, order: ++timerOrder });
    return id;
  }
  function clearTimer(id) { if (typeof id === "number" && id > 0) timerQueue.delete(id); }
  define("setTimeout", function setTimeout(callback, delay = 0, ...args) { return addTimer(callback, delay, args, false); });
  define("setInterval", function setInterval(callback, delay = 0, ...args) { return addTimer(callback, delay, args, true); });
  define("clearTimeout", function clearTimeout(id = 0) { clearTimer(id); });
  define("clearInterval", function clearInterval(id = 0) { clearTimer(id); });
  function runNextTimer() {
    if (timerQueue.size === 0) return false; // the usual case: no iterator to build
    let next = null;
    for (const t of timerQueue.values()) {
      if (!next || t.at < next.at || (t.at === next.at && t.order < next.order)) next = t;
    }
    if (!next) return false;
    timerClock = next.at;
    if (next.repeat) {
      if (next.nesting > 5 && next.delay < 4) next.delay = 4;
      next.nesting++;
      next.at += next.delay;
      next.order = ++timerOrder;
    } else timerQueue.delete(next.id);
    timerNesting = next.nesting;
    try {
      next.callback.apply(g, next.args);
    } catch (error) {
      if (isOutOfMemory(error)) throw error;
      reportException(error);
    } finally {
      timerNesting = 0;
    }
    return true;
  }
