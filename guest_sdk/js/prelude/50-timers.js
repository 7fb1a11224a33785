  // ---- timers (virtual time: callbacks run in delay order, without waiting) ---------

  let timerSequence = 0;
  let timerClock = 0;
  const timerQueue = new Map();
  function addTimer(callback, delay, args, repeat) {
    if (typeof callback !== "function") throw new TypeError("timer callback must be a function");
    const id = ++timerSequence;
    const ms = Math.max(0, Number(delay) || 0);
    timerQueue.set(id, { callback, args, at: timerClock + ms, repeat: repeat ? Math.max(1, ms) : 0, id });
    return id;
  }
  define("setTimeout", (callback, delay, ...args) => addTimer(callback, delay, args, false));
  define("setInterval", (callback, delay, ...args) => addTimer(callback, delay, args, true));
  define("clearTimeout", (id) => { timerQueue.delete(id); });
  define("clearInterval", (id) => { timerQueue.delete(id); });
  function runNextTimer() {
    let next = null;
    for (const t of timerQueue.values()) if (!next || t.at < next.at || (t.at === next.at && t.id < next.id)) next = t;
    if (!next) return false;
    timerClock = next.at;
    if (next.repeat) next.at += next.repeat; else timerQueue.delete(next.id);
    next.callback(...next.args);
    return true;
  }
