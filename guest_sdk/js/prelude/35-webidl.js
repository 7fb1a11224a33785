  // ---- WebIDL helpers and lazy prelude modules --------------------------------------
  // Shared by the Web API files that follow (events, streams, Blob, fetch).

  const ILLEGAL = Symbol("illegal constructor guard"); // a constructor only the prelude may call
  const INTERNAL = Symbol("internal construction");

  // WebIDL shape for a class: operations and attributes enumerable, a class string.
  function webidlInterface(cls, name = cls.name) {
    const proto = cls.prototype;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(proto, key);
      if (d.configurable && !d.enumerable) { d.enumerable = true; Object.defineProperty(proto, key, d); }
    }
    Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
    return cls;
  }
  function isObjectValue(x) { return (typeof x === "object" && x !== null) || typeof x === "function"; }
  // a dictionary argument: undefined and null are {}, other primitives a TypeError
  function dictionaryOf(value, what) {
    if (value === undefined || value === null) return {};
    if (!isObjectValue(value)) throw new TypeError(what + " must be an object");
    return value;
  }
  function toUSVString(value) {
    if (typeof value === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
    return String(value).toWellFormed();
  }
  function bufferSourceBytes(value) {
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  function concatBytes(chunks, total) {
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  }
  function utf8DecodeWithoutBOM(bytes) {
    const s = native.utf8Decode(bytes, false);
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  }

  // WebIDL promises, immune to a patched Promise or Promise.prototype.then
  const OriginalPromise = Promise;
  const promiseThen = Promise.prototype.then;
  function doNothing() {}
  function resolvedWith(value) { return new OriginalPromise((resolve) => resolve(value)); }
  function rejectedWith(reason) { return new OriginalPromise((resolve, reject) => reject(reason)); }
  function upon(promise, onFulfilled, onRejected) { return promiseThen.call(promise, onFulfilled, onRejected); }
  function markHandled(promise) { promiseThen.call(promise, undefined, doNothing); }
  function promiseCall(fn, thisArg, args) {
    try { return resolvedWith(fn.apply(thisArg, args)); } catch (e) { return rejectedWith(e); }
  }
  // a promise whose pending state is tracked (reader.closed, writer.ready, ...)
  function newDeferred() {
    const d = { pending: true, resolve: null, reject: null, promise: null };
    d.promise = new OriginalPromise((resolve, reject) => { d.resolve = resolve; d.reject = reject; });
    return d;
  }
  function settledDeferred(promise) { return { pending: false, promise, resolve: doNothing, reject: doNothing }; }
  function resolveDeferred(d, value) { if (d.pending) { d.pending = false; d.resolve(value); } }
  function rejectDeferred(d, reason) { if (d.pending) { d.pending = false; d.reject(reason); } }

  // WebIDL: an operation or attribute that returns a promise rejects it rather than
  // throw, a failed brand check included.
  function promiseReturning(cls, names) {
    const proto = cls.prototype;
    for (const name of names) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      const key = d.get ? "get" : "value";
      const f = d[key];
      const wrapped = function (...args) { try { return f.apply(this, args); } catch (e) { return rejectedWith(e); } };
      Object.defineProperty(wrapped, "name", { value: f.name });
      Object.defineProperty(wrapped, "length", { value: f.length });
      d[key] = wrapped;
      Object.defineProperty(proto, name, d);
    }
  }

  // WebIDL pair iterators (live: each next() reads the list again at its index)
  const ArrayIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  function definePairIterator(cls, name, pairsOf) {
    const iteratorPrototype = Object.create(ArrayIteratorPrototype);
    const state = new WeakMap();
    Object.defineProperty(iteratorPrototype, "next", {
      value: function next() {
        const s = state.get(this);
        if (s === undefined) throw new TypeError("next called on an object that is not a " + name + " iterator");
        const pairs = pairsOf(s.target);
        if (s.index >= pairs.length) return { value: undefined, done: true };
        const pair = pairs[s.index++];
        return { value: s.kind === "key" ? pair[0] : s.kind === "value" ? pair[1] : [pair[0], pair[1]], done: false };
      },
      writable: true, enumerable: true, configurable: true,
    });
    Object.defineProperty(iteratorPrototype, Symbol.toStringTag, { value: name + " Iterator", configurable: true });
    const make = (kind, methodName) => {
      const method = function () {
        pairsOf(this); // brand check
        const it = Object.create(iteratorPrototype);
        state.set(it, { target: this, kind, index: 0 });
        return it;
      };
      Object.defineProperty(method, "name", { value: methodName });
      return method;
    };
    const entries = make("key+value", "entries");
    for (const [m, f] of [["entries", entries], ["keys", make("key", "keys")], ["values", make("value", "values")]]) {
      Object.defineProperty(cls.prototype, m, { value: f, writable: true, enumerable: true, configurable: true });
    }
    Object.defineProperty(cls.prototype, Symbol.iterator, { value: entries, writable: true, configurable: true });
  }

  // Lazy prelude modules. Code that most functions never run (streams; Blob, File,
  // FormData) sits in a block comment "/*@lazy NAME ... @end*/" in its prelude file:
  // the prelude's parse skips it, so it costs no bytecode or heap in a snapshot.
  // native.lazyModule(NAME) compiles it the first time it is needed: at deploy,
  // when the function's source names one of its APIs (preloadLazyModules, 95-models),
  // otherwise in the call that first touches it. A module is a function of the
  // prelude bindings it uses, returning what it exports.
  let preludeReady = false; // true once the whole prelude has run (95-models)
  function lazyModule(name, imports) {
    let exports = null;
    const load = () => {
      if (exports === null) exports = native.lazyModule(name)(imports());
      return exports;
    };
    load.loaded = () => exports !== null;
    return load;
  }
  // Globals that load their module on first read and then become plain data properties.
  // While the prelude itself is still being set up (a `typeof X` feature test in a
  // later file), a read answers with a stand-in that loads the module when called.
  const lazyGlobalGetters = []; // [name, getter, load] for every lazy global
  function lazyGlobals(names, load) {
    for (const name of names) {
      const standIn = function (...args) {
        const real = load()[name];
        return new.target === undefined ? real(...args) : Reflect.construct(real, args, new.target === standIn ? real : new.target);
      };
      const get = function () {
        if (!preludeReady) return standIn;
        const value = load()[name];
        define(name, value);
        return value;
      };
      lazyGlobalGetters.push([name, get, load]);
      Object.defineProperty(g, name, {
        get,
        set(value) { define(name, value); },
        enumerable: false, configurable: true,
      });
    }
  }
  // The globals of modules already loaded become plain data properties (at the end of a
  // function's init, so its snapshot holds them: a call's first `Response` then costs no
  // getter and no redefinition of a global). A global the code replaced is left as it is.
  function settleLazyGlobals() {
    for (const [name, get, load] of lazyGlobalGetters) {
      if (!load.loaded()) continue;
      const d = Object.getOwnPropertyDescriptor(g, name);
      if (d !== undefined && d.get === get) define(name, load()[name]);
    }
  }
