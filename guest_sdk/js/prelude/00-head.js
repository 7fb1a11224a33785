// wasmtask JS prelude: Web APIs and the programming-model dispatcher.
// Evaluated once per runtime by shim.c as a strict global script whose value is
// a factory; shim.c calls it with the native helpers and keeps the returned API
// ({load, dispatch, finish, describeError}). Nothing here is reachable by user
// code except the globals it installs on purpose.
(function (native) {
  "use strict";
  const g = globalThis;
  const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 };

  function define(name, value) {
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  }

