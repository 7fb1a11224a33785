  // ---- Event, EventTarget, AbortController, AbortSignal, performance ---------------
  // DOM Standard sections 2.2-2.9 and 3.1-3.2, without a node tree: an event's path
  // is its target alone. Private fields give the interfaces their brand checks.
  // A lazy module (35-webidl.js); `performance` becomes an EventTarget when first read.

  const performanceNow = g.performance.now; // QuickJS's clock, restarted per request by shim.c
  const eventsModule = lazyModule("events", () => ({
    ILLEGAL, webidlInterface, dictionaryOf, performanceNow, addTimer, reportException, currentRequest: () => current,
  }));
  lazyGlobals(["Event", "CustomEvent", "EventTarget", "AbortSignal", "AbortController", "Performance", "performance"], eventsModule);
  // The prelude's use of signals; an AbortSignal exists only once the module is loaded.
  function isAbortSignal(value) { return eventsModule.loaded() && eventsModule().isAbortSignal(value); }
  function signalState(signal) { return eventsModule().signalState(signal); }
  function addAbortAlgorithm(signal, algorithm) { return eventsModule().addAbortAlgorithm(signal, algorithm); }
  function signalAbort(signal, reason) { eventsModule().signalAbort(signal, reason); }

/*@lazy events
(function (prelude) {
  "use strict";
  const { ILLEGAL, webidlInterface, dictionaryOf, performanceNow, addTimer, reportException, currentRequest } = prelude;

  function domException(message, name) { return new DOMException(message, name); }

  let eventInternals; // (event) -> its private state, for dispatch
  function isTrustedGetter() { return eventInternals(this).trusted; }
  class Event {
    #state;
    constructor(type, eventInitDict = undefined) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required");
      type = String(type);
      const init = dictionaryOf(eventInitDict, "EventInit");
      const bubbles = !!init.bubbles, cancelable = !!init.cancelable, composed = !!init.composed;
      this.#state = {
        type, bubbles, cancelable, composed, target: null, currentTarget: null, phase: 0,
        stopPropagation: false, stopImmediate: false, canceled: false, inPassive: false,
        dispatching: false, initialized: true, trusted: false, timeStamp: performanceNow(),
      };
      Object.defineProperty(this, "isTrusted", { get: isTrustedGetter, enumerable: true, configurable: false });
    }
    get type() { return this.#state.type; }
    get target() { return this.#state.target; }
    get srcElement() { return this.#state.target; }
    get currentTarget() { return this.#state.currentTarget; }
    composedPath() { const s = this.#state; return s.currentTarget === null ? [] : [s.currentTarget]; }
    get eventPhase() { return this.#state.phase; }
    stopPropagation() { this.#state.stopPropagation = true; }
    get cancelBubble() { return this.#state.stopPropagation; }
    set cancelBubble(value) { if (value) this.#state.stopPropagation = true; }
    stopImmediatePropagation() { this.#state.stopPropagation = true; this.#state.stopImmediate = true; }
    get bubbles() { return this.#state.bubbles; }
    get cancelable() { return this.#state.cancelable; }
    get returnValue() { return !this.#state.canceled; }
    set returnValue(value) { if (!value) this.#cancel(); }
    preventDefault() { this.#cancel(); }
    #cancel() { const s = this.#state; if (s.cancelable && !s.inPassive) s.canceled = true; }
    get defaultPrevented() { return this.#state.canceled; }
    get composed() { return this.#state.composed; }
    get timeStamp() { return this.#state.timeStamp; }
    initEvent(type, bubbles = false, cancelable = false) {
      if (arguments.length === 0) throw new TypeError("initEvent: 1 argument required");
      const s = this.#state;
      if (s.dispatching) return;
      Object.assign(s, { initialized: true, stopPropagation: false, stopImmediate: false, canceled: false, trusted: false, target: null,
        type: String(type), bubbles: !!bubbles, cancelable: !!cancelable });
    }
    static { eventInternals = (event) => event.#state; }
  }
  const EVENT_PHASES = { NONE: 0, CAPTURING_PHASE: 1, AT_TARGET: 2, BUBBLING_PHASE: 3 };
  for (const [name, value] of Object.entries(EVENT_PHASES)) {
    Object.defineProperty(Event, name, { value, enumerable: true });
    Object.defineProperty(Event.prototype, name, { value, enumerable: true });
  }
  webidlInterface(Event);

  class CustomEvent extends Event {
    #detail;
    constructor(type, eventInitDict = undefined) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'CustomEvent': 1 argument required");
      super(type, eventInitDict);
      const init = dictionaryOf(eventInitDict, "CustomEventInit");
      this.#detail = init.detail === undefined ? null : init.detail;
    }
    get detail() { return this.#detail; }
    initCustomEvent(type, bubbles = false, cancelable = false, detail = null) {
      if (eventInternals(this).dispatching) return;
      this.initEvent(type, bubbles, cancelable);
      this.#detail = detail;
    }
  }
  webidlInterface(CustomEvent);

  function flattenOptions(options) {
    return typeof options === "object" && options !== null ? !!options.capture : !!options;
  }
  let targetInternals; // (target) -> Map(type -> listener records)
  class EventTarget {
    #listeners = null;
    constructor() {}
    addEventListener(type, callback, options = undefined) {
      if (arguments.length < 2) throw new TypeError("addEventListener: 2 arguments required");
      type = String(type);
      let capture = false, passive = false, once = false, signal = null;
      if (typeof options === "object" && options !== null) {
        capture = !!options.capture;
        passive = !!options.passive;
        once = !!options.once;
        if ("signal" in options) {
          signal = options.signal;
          if (!isAbortSignal(signal)) throw new TypeError("addEventListener: options.signal is not an AbortSignal");
        }
      } else capture = !!options;
      if (callback === null) return;
      if (typeof callback !== "object" && typeof callback !== "function") throw new TypeError("addEventListener: the listener must be an object or a function");
      if (signal !== null && signalState(signal).aborted) return;
      const map = this.#listeners || (this.#listeners = new Map());
      let list = map.get(type);
      if (!list) map.set(type, (list = []));
      for (const l of list) if (l.callback === callback && l.capture === capture) return;
      const record = { callback, capture, passive, once, removed: false };
      list.push(record);
      if (signal !== null) addAbortAlgorithm(signal, () => removeListener(this, type, record));
    }
    removeEventListener(type, callback, options = undefined) {
      if (arguments.length < 2) throw new TypeError("removeEventListener: 2 arguments required");
      type = String(type);
      const capture = flattenOptions(options);
      const list = this.#listeners && this.#listeners.get(type);
      if (!list) return;
      for (const l of list) if (l.callback === callback && l.capture === capture) { removeListener(this, type, l); return; }
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError("dispatchEvent: parameter 1 is not of type 'Event'");
      const s = eventInternals(event);
      if (s.dispatching || !s.initialized) throw domException("The event is already being dispatched or was not initialized", "InvalidStateError");
      s.trusted = false;
      return dispatchTo(this, event);
    }
    static { targetInternals = (target) => target.#listeners; }
  }
  webidlInterface(EventTarget);

  function removeListener(target, type, record) {
    record.removed = true;
    const list = targetInternals(target).get(type);
    const i = list ? list.indexOf(record) : -1;
    if (i >= 0) list.splice(i, 1);
  }

  function dispatchTo(target, event, trusted = false) {
    const s = eventInternals(event);
    if (trusted) s.trusted = true;
    s.dispatching = true;
    s.target = target;
    s.currentTarget = target;
    s.phase = EVENT_PHASES.AT_TARGET;
    const map = targetInternals(target);
    const list = map && map.get(s.type);
    if (list && list.length) {
      const listeners = list.slice();
      if (!s.stopPropagation) invokeListeners(target, event, s, listeners, true);
      if (!s.stopPropagation) invokeListeners(target, event, s, listeners, false);
    }
    s.phase = EVENT_PHASES.NONE;
    s.currentTarget = null;
    s.dispatching = false;
    s.stopPropagation = false;
    s.stopImmediate = false;
    return !s.canceled;
  }

  function invokeListeners(target, event, s, listeners, capturing) {
    for (const l of listeners) {
      if (l.removed || l.capture !== capturing) continue;
      if (l.once) removeListener(target, s.type, l);
      if (l.passive) s.inPassive = true;
      try {
        const callback = l.callback;
        if (typeof callback === "function") callback.call(target, event);
        else {
          const handleEvent = callback.handleEvent;
          if (typeof handleEvent !== "function") throw new TypeError("the listener has no handleEvent method");
          handleEvent.call(callback, event);
        }
      } catch (error) {
        reportException(error);
      }
      s.inPassive = false;
      if (s.stopImmediate) break;
    }
  }

  // Event handler IDL attributes (onabort, ...): the listener is added when a
  // handler is first set and keeps its place in the list.
  function defineEventHandler(proto, name) {
    const handlers = new WeakMap(); // target -> {value, record}
    Object.defineProperty(proto, "on" + name, {
      get() { targetInternals(this); const h = handlers.get(this); return h ? h.value : null; },
      set(value) {
        targetInternals(this);
        if (typeof value !== "object" && typeof value !== "function") value = null;
        let h = handlers.get(this);
        if (value === null) {
          if (h) { if (h.listener) this.removeEventListener(name, h.listener); handlers.delete(this); }
          return;
        }
        if (!h) {
          h = { value, listener: null };
          handlers.set(this, h);
          h.listener = function (event) {
            const handler = h.value;
            if (typeof handler !== "function") return;
            const result = handler.call(this, event);
            if (result === false) event.preventDefault();
          };
          this.addEventListener(name, h.listener);
        } else h.value = value;
      },
      enumerable: true, configurable: true,
    });
  }

  // ---- AbortSignal and AbortController (DOM 3.1-3.2) ----

  let signalState; // (signal) -> private state
  class AbortSignal extends EventTarget {
    #state = { aborted: false, reason: undefined, algorithms: [], dependent: false, sources: null, dependents: null };
    constructor(guard = undefined) {
      if (guard !== ILLEGAL) throw new TypeError("Illegal constructor");
      super();
    }
    static abort(reason = undefined) {
      const signal = new AbortSignal(ILLEGAL);
      signal.#state.aborted = true;
      signal.#state.reason = reason === undefined ? domException("signal is aborted without reason", "AbortError") : reason;
      return signal;
    }
    static timeout(milliseconds) {
      milliseconds = Number(milliseconds);
      if (!Number.isFinite(milliseconds) || milliseconds < 0 || milliseconds > Number.MAX_SAFE_INTEGER) throw new TypeError("AbortSignal.timeout: the delay must be a non-negative integer");
      const signal = new AbortSignal(ILLEGAL);
      addTimer(() => signalAbort(signal, domException("signal timed out", "TimeoutError")), Math.trunc(milliseconds), [], false, true);
      return signal;
    }
    static any(signals) {
      const list = [];
      for (const s of signals) { if (!isAbortSignal(s)) throw new TypeError("AbortSignal.any: every item must be an AbortSignal"); list.push(s); }
      const result = new AbortSignal(ILLEGAL);
      const state = result.#state;
      for (const s of list) {
        if (s.#state.aborted) { state.aborted = true; state.reason = s.#state.reason; return result; }
      }
      state.dependent = true;
      state.sources = new Set();
      for (const s of list) {
        const sources = s.#state.dependent ? s.#state.sources : [s];
        for (const source of sources) {
          state.sources.add(source);
          (source.#state.dependents || (source.#state.dependents = new Set())).add(result);
        }
      }
      return result;
    }
    get aborted() { return this.#state.aborted; }
    get reason() { return this.#state.reason; }
    throwIfAborted() { if (this.#state.aborted) throw this.#state.reason; }
    static { signalState = (signal) => signal.#state; }
  }
  defineEventHandler(AbortSignal.prototype, "abort");
  webidlInterface(AbortSignal);

  function isAbortSignal(value) {
    if (typeof value !== "object" || value === null) return false;
    try { signalState(value); return true; } catch (e) { return false; }
  }
  function addAbortAlgorithm(signal, algorithm) {
    const state = signalState(signal);
    if (!state.aborted) state.algorithms.push(algorithm);
    return () => { const i = state.algorithms.indexOf(algorithm); if (i >= 0) state.algorithms.splice(i, 1); };
  }
  function signalAbort(signal, reason) {
    const state = signalState(signal);
    if (state.aborted) return;
    state.aborted = true;
    state.reason = reason === undefined ? domException("signal is aborted without reason", "AbortError") : reason;
    const dependents = [];
    if (state.dependents) {
      for (const d of state.dependents) {
        const ds = signalState(d);
        if (!ds.aborted) { ds.aborted = true; ds.reason = state.reason; dependents.push(d); }
      }
    }
    runAbortSteps(signal);
    for (const d of dependents) runAbortSteps(d);
  }
  function runAbortSteps(signal) {
    const state = signalState(signal);
    const algorithms = state.algorithms;
    state.algorithms = [];
    for (const algorithm of algorithms) algorithm();
    dispatchTo(signal, new Event("abort"), true);
  }

  class AbortController {
    #signal = new AbortSignal(ILLEGAL);
    get signal() { return this.#signal; }
    abort(reason = undefined) { signalAbort(this.#signal, reason); }
  }
  webidlInterface(AbortController);

  // ---- performance: an EventTarget (High Resolution Time) ----
  // now() is QuickJS's clock (restarted per request by shim.c); timeOrigin is the
  // wall-clock time of that restart, computed on first use in each request.
  let timeOrigin, timeOriginRequest; // computed once per request
  class Performance extends EventTarget {
    constructor(guard = undefined) {
      if (guard !== ILLEGAL) throw new TypeError("Illegal constructor");
      super();
    }
    now() { targetInternals(this); return performanceNow(); }
    get timeOrigin() {
      targetInternals(this);
      const request = currentRequest();
      if (timeOriginRequest !== request) { timeOriginRequest = request; timeOrigin = Date.now() - performanceNow(); }
      return timeOrigin;
    }
    toJSON() { targetInternals(this); return { timeOrigin: this.timeOrigin }; }
  }
  webidlInterface(Performance);

  const exports = { isAbortSignal, signalState, addAbortAlgorithm, signalAbort, newAbortSignal: () => new AbortSignal(ILLEGAL),
    performance: new Performance(ILLEGAL) };
  for (const cls of [Event, CustomEvent, EventTarget, AbortSignal, AbortController, Performance]) exports[cls.name] = cls;
  return exports;
})
@end*/
