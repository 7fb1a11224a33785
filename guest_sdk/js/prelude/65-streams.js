  // ---- Streams: ReadableStream, WritableStream, TransformStream ---------------------
  // The WHATWG Streams Standard's algorithms, in the order and with the names of its
  // reference implementation (github.com/whatwg/streams, CC0-1.0 OR MIT). Each public
  // object keeps its internal slots in one record behind a private field; the
  // abstract operations work on those records (record.obj is the public object).
  // A lazy module (35-webidl.js): ~90 KB of code most functions never run.

  const STREAM_CLASSES = ["ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamDefaultController",
    "ReadableByteStreamController", "ReadableStreamBYOBRequest", "WritableStream", "WritableStreamDefaultWriter",
    "WritableStreamDefaultController", "TransformStream", "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy"];
  const streamsModule = lazyModule("streams", () => ({
    INTERNAL, isObjectValue, dictionaryOf, concatBytes, promiseReturning, OriginalPromise, doNothing, resolvedWith, rejectedWith, upon, markHandled, promiseCall,
    newDeferred, settledDeferred, resolveDeferred, rejectDeferred, webidlInterface, isAbortSignal, addAbortAlgorithm, signalAbort,
    structuredCloneValue, newAbortController: () => new (eventsModule().AbortController)(),
  }));
  lazyGlobals(STREAM_CLASSES, streamsModule);
  // a ReadableStream exists only once the module is loaded
  function isReadableStreamValue(value) { return streamsModule.loaded() && streamsModule().isReadableStream(value); }

/*@lazy streams
(function (prelude) {
  "use strict";
  const { INTERNAL, isObjectValue, dictionaryOf, concatBytes, promiseReturning, OriginalPromise, doNothing, resolvedWith, rejectedWith, upon, markHandled, promiseCall,
    newDeferred, settledDeferred, resolveDeferred, rejectDeferred, webidlInterface, isAbortSignal, addAbortAlgorithm, signalAbort,
    structuredCloneValue, newAbortController } = prelude;
  const enqueueMicrotask = queueMicrotask;

  function waitForAll(promises) {
    return new OriginalPromise((resolve, reject) => {
      let left = promises.length;
      if (left === 0) { resolve([]); return; }
      const results = new Array(left);
      promises.forEach((p, i) => upon(p, (v) => { results[i] = v; if (--left === 0) resolve(results); }, reject));
    });
  }

  function isDetached(buffer) { return buffer.detached === true; }
  function transferBuffer(buffer) { return buffer.transfer(); }
  function cloneAsUint8Array(view) { return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)); }
  function copyBytes(dest, destOffset, src, srcOffset, n) { new Uint8Array(dest).set(new Uint8Array(src, srcOffset, n), destOffset); }
  function isNonNegativeNumber(v) { return typeof v === "number" && !Number.isNaN(v) && v >= 0; }

  // WebIDL conversions used by the constructors
  function callbackMember(dict, name, what) {
    const f = dict[name];
    if (f === undefined) return undefined;
    if (typeof f !== "function") throw new TypeError(what + "." + name + " must be a function");
    return f;
  }
  function enforceRangeULL(value, what) {
    const x = Number(value);
    if (!Number.isFinite(x)) throw new TypeError(what + " must be a finite number");
    const t = Math.trunc(x);
    if (t < 0 || t > Number.MAX_SAFE_INTEGER) throw new TypeError(what + " is out of range");
    return t;
  }
  function queuingStrategy(strategy) {
    const dict = dictionaryOf(strategy, "the queuing strategy");
    const hwm = dict.highWaterMark;
    const out = {};
    if (hwm !== undefined) out.highWaterMark = Number(hwm);
    const size = dict.size;
    if (size !== undefined) {
      if (typeof size !== "function") throw new TypeError("the queuing strategy's size must be a function");
      out.size = size;
    }
    return out;
  }
  function extractHighWaterMark(strategy, defaultHWM) {
    if (strategy.highWaterMark === undefined) return defaultHWM;
    const hwm = strategy.highWaterMark;
    if (Number.isNaN(hwm) || hwm < 0) throw new RangeError("Invalid highWaterMark");
    return hwm;
  }
  function extractSizeAlgorithm(strategy) {
    const size = strategy.size;
    return size === undefined ? () => 1 : (chunk) => size(chunk);
  }

  // queue-with-sizes
  function dequeueValue(container) {
    const pair = container.queue.shift();
    container.queueTotalSize -= pair.size;
    if (container.queueTotalSize < 0) container.queueTotalSize = 0;
    return pair.value;
  }
  function enqueueValueWithSize(container, value, size) {
    if (!isNonNegativeNumber(size) || size === Infinity) throw new RangeError("Size must be a finite, non-NaN, non-negative number.");
    container.queue.push({ value, size });
    container.queueTotalSize += size;
  }
  function resetQueue(container) { container.queue = []; container.queueTotalSize = 0; }

  // ---- ReadableStream ----

  let rsRecord, readerRecord, rsControllerRecord, byobRequestRecord;

  class ReadableStream {
    #s;
    constructor(underlyingSource = undefined, strategy = undefined) {
      if (underlyingSource === INTERNAL) { this.#s = strategy; strategy.obj = this; return; }
      const strategyDict = queuingStrategy(strategy);
      if (underlyingSource === null) throw new TypeError("ReadableStream: the underlying source must be an object");
      const source = underlyingSource === undefined ? {} : dictionaryOf(underlyingSource, "the underlying source");
      const autoAllocate = source.autoAllocateChunkSize;
      const dict = {
        autoAllocateChunkSize: autoAllocate === undefined ? undefined : enforceRangeULL(autoAllocate, "autoAllocateChunkSize"),
        cancel: callbackMember(source, "cancel", "underlyingSource"),
        pull: callbackMember(source, "pull", "underlyingSource"),
        start: callbackMember(source, "start", "underlyingSource"),
        type: source.type === undefined ? undefined : String(source.type),
      };
      if (dict.type !== undefined && dict.type !== "bytes") throw new TypeError("ReadableStream: invalid type " + dict.type);
      this.#s = newReadableStreamRecord(this);
      if (dict.type === "bytes") {
        if (strategyDict.size !== undefined) throw new RangeError("The strategy for a byte stream cannot have a size function");
        setUpByteControllerFromSource(this.#s, underlyingSource, dict, extractHighWaterMark(strategyDict, 0));
      } else {
        setUpDefaultControllerFromSource(this.#s, underlyingSource, dict, extractHighWaterMark(strategyDict, 1), extractSizeAlgorithm(strategyDict));
      }
    }
    get locked() { return this.#s.reader !== undefined; }
    cancel(reason = undefined) {
      const s = this.#s;
      if (s.reader !== undefined) return rejectedWith(new TypeError("Cannot cancel a stream that already has a reader"));
      return readableStreamCancel(s, reason);
    }
    getReader(options = undefined) {
      const dict = dictionaryOf(options, "getReader options");
      const mode = dict.mode;
      if (mode === undefined) return acquireDefaultReader(this.#s).obj;
      if (String(mode) !== "byob") throw new TypeError("getReader: invalid mode " + mode);
      return acquireBYOBReader(this.#s).obj;
    }
    pipeThrough(transform, options = undefined) {
      const s = this.#s;
      if (!isObjectValue(transform)) throw new TypeError("pipeThrough: the transform must be an object");
      const readable = transform.readable;
      const rr = rsRecordOf(readable, "pipeThrough: transform.readable");
      const writable = transform.writable;
      const wr = wsRecordOf(writable, "pipeThrough: transform.writable");
      const opts = pipeOptions(options);
      if (s.reader !== undefined) throw new TypeError("pipeThrough cannot be used on a locked ReadableStream");
      if (wr.writer !== undefined) throw new TypeError("pipeThrough cannot be used on a locked WritableStream");
      markHandled(readableStreamPipeTo(s, wr, opts.preventClose, opts.preventAbort, opts.preventCancel, opts.signal));
      return rr.obj;
    }
    pipeTo(destination, options = undefined) {
      const s = this.#s;
      let wr, opts;
      try {
        wr = wsRecordOf(destination, "pipeTo: the destination");
        opts = pipeOptions(options);
      } catch (e) { return rejectedWith(e); }
      if (s.reader !== undefined) return rejectedWith(new TypeError("pipeTo cannot be used on a locked ReadableStream"));
      if (wr.writer !== undefined) return rejectedWith(new TypeError("pipeTo cannot be used on a locked WritableStream"));
      return readableStreamPipeTo(s, wr, opts.preventClose, opts.preventAbort, opts.preventCancel, opts.signal);
    }
    tee() { return readableStreamTee(this.#s, false).map((r) => r.obj); }
    values(options = undefined) {
      const dict = dictionaryOf(options, "values options");
      const preventCancel = !!dict.preventCancel;
      const reader = acquireDefaultReader(this.#s);
      return new ReadableStreamAsyncIterator(INTERNAL, { reader, preventCancel, ongoing: null, finished: false });
    }
    static from(asyncIterable) { return readableStreamFromIterable(asyncIterable).obj; }
    static { rsRecord = (x) => x.#s; }
  }
  Object.defineProperty(ReadableStream.prototype, Symbol.asyncIterator, { value: ReadableStream.prototype.values, writable: true, configurable: true });

  function rsRecordOf(value, what) {
    try { return rsRecord(value); } catch (e) { throw new TypeError(what + " is not a ReadableStream"); }
  }
  function isReadableStream(value) {
    if (!isObjectValue(value)) return false;
    try { rsRecord(value); return true; } catch (e) { return false; }
  }
  function pipeOptions(options) {
    const dict = dictionaryOf(options, "pipe options");
    const out = { preventAbort: !!dict.preventAbort, preventCancel: !!dict.preventCancel, preventClose: !!dict.preventClose, signal: dict.signal };
    if (out.signal !== undefined && !isAbortSignal(out.signal)) throw new TypeError("pipe options: signal is not an AbortSignal");
    return out;
  }

  const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);
  let asyncIteratorRecord;
  class ReadableStreamAsyncIterator {
    #s;
    constructor(guard, state) { if (guard !== INTERNAL) throw new TypeError("Illegal constructor"); this.#s = state; }
    next() {
      const it = this.#s;
      const nextSteps = () => {
        if (it.finished) return resolvedWith({ value: undefined, done: true });
        const d = newDeferred();
        const reader = it.reader;
        readableStreamDefaultReaderRead(reader, {
          chunk: (chunk) => resolveDeferred(d, { value: chunk, done: false }),
          close: () => { readableStreamDefaultReaderRelease(reader); it.finished = true; resolveDeferred(d, { value: undefined, done: true }); },
          error: (e) => { readableStreamDefaultReaderRelease(reader); it.finished = true; rejectDeferred(d, e); },
        });
        return d.promise;
      };
      it.ongoing = it.ongoing ? upon(it.ongoing, nextSteps, nextSteps) : nextSteps();
      const current = it.ongoing;
      upon(current, () => { if (it.ongoing === current) it.ongoing = null; }, () => { if (it.ongoing === current) it.ongoing = null; });
      return current;
    }
    return(value = undefined) {
      const it = this.#s;
      const returnSteps = () => {
        if (it.finished) return resolvedWith({ value, done: true });
        it.finished = true;
        const reader = it.reader;
        let result;
        if (!it.preventCancel) {
          result = readableStreamReaderGenericCancel(reader, value);
          readableStreamDefaultReaderRelease(reader);
        } else {
          readableStreamDefaultReaderRelease(reader);
          result = resolvedWith(undefined);
        }
        return upon(result, () => ({ value, done: true }));
      };
      it.ongoing = it.ongoing ? upon(it.ongoing, returnSteps, returnSteps) : returnSteps();
      return it.ongoing;
    }
  }
  Object.setPrototypeOf(ReadableStreamAsyncIterator.prototype, AsyncIteratorPrototype);
  Object.defineProperty(ReadableStreamAsyncIterator.prototype, Symbol.toStringTag, { value: "ReadableStream AsyncIterator", configurable: true });
  delete ReadableStreamAsyncIterator.prototype.constructor; // WebIDL iterator prototypes have none
  for (const name of ["next", "return"]) {
    const d = Object.getOwnPropertyDescriptor(ReadableStreamAsyncIterator.prototype, name);
    d.enumerable = true;
    Object.defineProperty(ReadableStreamAsyncIterator.prototype, name, d);
  }

  function newReadableStreamRecord(obj) {
    return { obj, state: "readable", reader: undefined, storedError: undefined, disturbed: false, controller: undefined };
  }
  function createReadableStream(start, pull, cancel, hwm = 1, size = () => 1) {
    const s = newReadableStreamRecord(null);
    new ReadableStream(INTERNAL, s);
    setUpDefaultController(s, newDefaultControllerRecord(), start, pull, cancel, hwm, size);
    return s;
  }
  function createReadableByteStream(start, pull, cancel) {
    const s = newReadableStreamRecord(null);
    new ReadableStream(INTERNAL, s);
    setUpByteController(s, newByteControllerRecord(), start, pull, cancel, 0, undefined);
    return s;
  }

  function readableStreamPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal) {
    const reader = acquireDefaultReader(source);
    const writer = acquireWriter(dest);
    source.disturbed = true;
    let shuttingDown = false;
    let currentWrite = resolvedWith(undefined);
    return new OriginalPromise((resolve, reject) => {
      let abortAlgorithm;
      let removeAbort = doNothing;
      if (signal !== undefined) {
        abortAlgorithm = () => {
          const error = signal.reason;
          const actions = [];
          if (!preventAbort) actions.push(() => (dest.state === "writable" ? writableStreamAbort(dest, error) : resolvedWith(undefined)));
          if (!preventCancel) actions.push(() => (source.state === "readable" ? readableStreamCancel(source, error) : resolvedWith(undefined)));
          shutdownWithAction(() => waitForAll(actions.map((action) => action())), true, error);
        };
        if (signal.aborted) { abortAlgorithm(); return; }
        removeAbort = addAbortAlgorithm(signal, abortAlgorithm);
      }
      function pipeStep() {
        if (shuttingDown) return resolvedWith(true);
        return upon(writer.ready.promise, () => new OriginalPromise((resolveRead, rejectRead) => {
          readableStreamDefaultReaderRead(reader, {
            chunk: (chunk) => {
              currentWrite = upon(writableStreamDefaultWriterWrite(writer, chunk), undefined, doNothing);
              resolveRead(false);
            },
            close: () => resolveRead(true),
            error: rejectRead,
          });
        }));
      }
      function pipeLoop() {
        return new OriginalPromise((resolveLoop, rejectLoop) => {
          function next(done) { if (done) resolveLoop(); else upon(pipeStep(), next, rejectLoop); }
          next(false);
        });
      }
      function isOrBecomesErrored(stream, promise, action) {
        if (stream.state === "errored") action(stream.storedError); else upon(promise, undefined, action);
      }
      function isOrBecomesClosed(stream, promise, action) {
        if (stream.state === "closed") action(); else upon(promise, action);
      }
      function waitForWritesToFinish() {
        const oldCurrentWrite = currentWrite;
        return upon(currentWrite, () => (oldCurrentWrite !== currentWrite ? waitForWritesToFinish() : undefined));
      }
      function shutdownWithAction(action, originalIsError, originalError) {
        if (shuttingDown) return;
        shuttingDown = true;
        const doTheRest = () => upon(action(), () => finalize(originalIsError, originalError), (newError) => finalize(true, newError));
        if (dest.state === "writable" && !writableStreamCloseQueuedOrInFlight(dest)) upon(waitForWritesToFinish(), doTheRest);
        else doTheRest();
      }
      function shutdown(isError, error) {
        if (shuttingDown) return;
        shuttingDown = true;
        if (dest.state === "writable" && !writableStreamCloseQueuedOrInFlight(dest)) upon(waitForWritesToFinish(), () => finalize(isError, error));
        else finalize(isError, error);
      }
      function finalize(isError, error) {
        writableStreamDefaultWriterRelease(writer);
        readableStreamDefaultReaderRelease(reader);
        removeAbort();
        if (isError) reject(error); else resolve(undefined);
      }
      isOrBecomesErrored(source, reader.closed.promise, (storedError) => {
        if (!preventAbort) shutdownWithAction(() => writableStreamAbort(dest, storedError), true, storedError);
        else shutdown(true, storedError);
      });
      isOrBecomesErrored(dest, writer.closed.promise, (storedError) => {
        if (!preventCancel) shutdownWithAction(() => readableStreamCancel(source, storedError), true, storedError);
        else shutdown(true, storedError);
      });
      isOrBecomesClosed(source, reader.closed.promise, () => {
        if (!preventClose) shutdownWithAction(() => writableStreamDefaultWriterCloseWithErrorPropagation(writer));
        else shutdown();
      });
      if (writableStreamCloseQueuedOrInFlight(dest) || dest.state === "closed") {
        const destClosed = new TypeError("the destination writable stream closed before all data could be piped to it");
        if (!preventCancel) shutdownWithAction(() => readableStreamCancel(source, destClosed), true, destClosed);
        else shutdown(true, destClosed);
      }
      markHandled(pipeLoop());
    });
  }

  function readableStreamTee(stream, cloneForBranch2) {
    return stream.controller.byte ? readableByteStreamTee(stream) : readableStreamDefaultTee(stream, cloneForBranch2);
  }
  function readableStreamDefaultTee(stream, cloneForBranch2) {
    const reader = acquireDefaultReader(stream);
    let reading = false, readAgain = false, canceled1 = false, canceled2 = false, reason1, reason2, branch1, branch2;
    const cancelPromise = newDeferred();
    function pullAlgorithm() {
      if (reading) { readAgain = true; return resolvedWith(undefined); }
      reading = true;
      readableStreamDefaultReaderRead(reader, {
        chunk: (chunk) => {
          enqueueMicrotask(() => {
            readAgain = false;
            let chunk2 = chunk;
            if (!canceled2 && cloneForBranch2) {
              try { chunk2 = structuredCloneValue(chunk); } catch (cloneE) {
                readableStreamDefaultControllerError(branch1.controller, cloneE);
                readableStreamDefaultControllerError(branch2.controller, cloneE);
                resolveDeferred(cancelPromise, readableStreamCancel(stream, cloneE));
                return;
              }
            }
            if (!canceled1) readableStreamDefaultControllerEnqueue(branch1.controller, chunk);
            if (!canceled2) readableStreamDefaultControllerEnqueue(branch2.controller, chunk2);
            reading = false;
            if (readAgain) pullAlgorithm();
          });
        },
        close: () => {
          reading = false;
          if (!canceled1) readableStreamDefaultControllerClose(branch1.controller);
          if (!canceled2) readableStreamDefaultControllerClose(branch2.controller);
          if (!canceled1 || !canceled2) resolveDeferred(cancelPromise, undefined);
        },
        error: () => { reading = false; },
      });
      return resolvedWith(undefined);
    }
    function cancel1Algorithm(reason) {
      canceled1 = true; reason1 = reason;
      if (canceled2) resolveDeferred(cancelPromise, readableStreamCancel(stream, [reason1, reason2]));
      return cancelPromise.promise;
    }
    function cancel2Algorithm(reason) {
      canceled2 = true; reason2 = reason;
      if (canceled1) resolveDeferred(cancelPromise, readableStreamCancel(stream, [reason1, reason2]));
      return cancelPromise.promise;
    }
    branch1 = createReadableStream(doNothing, pullAlgorithm, cancel1Algorithm);
    branch2 = createReadableStream(doNothing, pullAlgorithm, cancel2Algorithm);
    upon(reader.closed.promise, undefined, (r) => {
      readableStreamDefaultControllerError(branch1.controller, r);
      readableStreamDefaultControllerError(branch2.controller, r);
      if (!canceled1 || !canceled2) resolveDeferred(cancelPromise, undefined);
    });
    return [branch1, branch2];
  }
  function readableByteStreamTee(stream) {
    let reader = acquireDefaultReader(stream);
    let readAgainForBranch1 = false, readAgainForBranch2 = false, reading = false;
    let canceled1 = false, canceled2 = false, reason1, reason2, branch1, branch2;
    const cancelPromise = newDeferred();
    function forwardReaderError(thisReader) {
      upon(thisReader.closed.promise, undefined, (r) => {
        if (thisReader !== reader) return;
        readableByteStreamControllerError(branch1.controller, r);
        readableByteStreamControllerError(branch2.controller, r);
        if (!canceled1 || !canceled2) resolveDeferred(cancelPromise, undefined);
      });
    }
    function pullWithDefaultReader() {
      if (reader.byob) {
        readableStreamBYOBReaderRelease(reader);
        reader = acquireDefaultReader(stream);
        forwardReaderError(reader);
      }
      readableStreamDefaultReaderRead(reader, {
        chunk: (chunk) => {
          enqueueMicrotask(() => {
            readAgainForBranch1 = false; readAgainForBranch2 = false;
            let chunk2 = chunk;
            if (!canceled1 && !canceled2) {
              try { chunk2 = cloneAsUint8Array(chunk); } catch (cloneE) {
                readableByteStreamControllerError(branch1.controller, cloneE);
                readableByteStreamControllerError(branch2.controller, cloneE);
                resolveDeferred(cancelPromise, readableStreamCancel(stream, cloneE));
                return;
              }
            }
            if (!canceled1) readableByteStreamControllerEnqueue(branch1.controller, chunk);
            if (!canceled2) readableByteStreamControllerEnqueue(branch2.controller, chunk2);
            reading = false;
            if (readAgainForBranch1) pull1Algorithm(); else if (readAgainForBranch2) pull2Algorithm();
          });
        },
        close: () => {
          reading = false;
          if (!canceled1) readableByteStreamControllerClose(branch1.controller);
          if (!canceled2) readableByteStreamControllerClose(branch2.controller);
          if (branch1.controller.pendingPullIntos.length > 0) readableByteStreamControllerRespond(branch1.controller, 0);
          if (branch2.controller.pendingPullIntos.length > 0) readableByteStreamControllerRespond(branch2.controller, 0);
          if (!canceled1 || !canceled2) resolveDeferred(cancelPromise, undefined);
        },
        error: () => { reading = false; },
      });
    }
    function pullWithBYOBReader(view, forBranch2) {
      if (!reader.byob) {
        readableStreamDefaultReaderRelease(reader);
        reader = acquireBYOBReader(stream);
        forwardReaderError(reader);
      }
      const byobBranch = forBranch2 ? branch2 : branch1;
      const otherBranch = forBranch2 ? branch1 : branch2;
      readableStreamBYOBReaderRead(reader, view, 1, {
        chunk: (chunk) => {
          enqueueMicrotask(() => {
            readAgainForBranch1 = false; readAgainForBranch2 = false;
            const byobCanceled = forBranch2 ? canceled2 : canceled1;
            const otherCanceled = forBranch2 ? canceled1 : canceled2;
            if (!otherCanceled) {
              let clonedChunk;
              try { clonedChunk = cloneAsUint8Array(chunk); } catch (cloneE) {
                readableByteStreamControllerError(byobBranch.controller, cloneE);
                readableByteStreamControllerError(otherBranch.controller, cloneE);
                resolveDeferred(cancelPromise, readableStreamCancel(stream, cloneE));
                return;
              }
              if (!byobCanceled) readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
              readableByteStreamControllerEnqueue(otherBranch.controller, clonedChunk);
            } else if (!byobCanceled) {
              readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
            }
            reading = false;
            if (readAgainForBranch1) pull1Algorithm(); else if (readAgainForBranch2) pull2Algorithm();
          });
        },
        close: (chunk) => {
          reading = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          if (!byobCanceled) readableByteStreamControllerClose(byobBranch.controller);
          if (!otherCanceled) readableByteStreamControllerClose(otherBranch.controller);
          if (chunk !== undefined) {
            if (!byobCanceled) readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
            if (!otherCanceled && otherBranch.controller.pendingPullIntos.length > 0) readableByteStreamControllerRespond(otherBranch.controller, 0);
          }
          if (!byobCanceled || !otherCanceled) resolveDeferred(cancelPromise, undefined);
        },
        error: () => { reading = false; },
      });
    }
    function pull1Algorithm() {
      if (reading) { readAgainForBranch1 = true; return resolvedWith(undefined); }
      reading = true;
      const byobRequest = readableByteStreamControllerGetBYOBRequest(branch1.controller);
      if (byobRequest === null) pullWithDefaultReader(); else pullWithBYOBReader(byobRequestRecord(byobRequest).view, false);
      return resolvedWith(undefined);
    }
    function pull2Algorithm() {
      if (reading) { readAgainForBranch2 = true; return resolvedWith(undefined); }
      reading = true;
      const byobRequest = readableByteStreamControllerGetBYOBRequest(branch2.controller);
      if (byobRequest === null) pullWithDefaultReader(); else pullWithBYOBReader(byobRequestRecord(byobRequest).view, true);
      return resolvedWith(undefined);
    }
    function cancel1Algorithm(reason) {
      canceled1 = true; reason1 = reason;
      if (canceled2) resolveDeferred(cancelPromise, readableStreamCancel(stream, [reason1, reason2]));
      return cancelPromise.promise;
    }
    function cancel2Algorithm(reason) {
      canceled2 = true; reason2 = reason;
      if (canceled1) resolveDeferred(cancelPromise, readableStreamCancel(stream, [reason1, reason2]));
      return cancelPromise.promise;
    }
    branch1 = createReadableByteStream(doNothing, pull1Algorithm, cancel1Algorithm);
    branch2 = createReadableByteStream(doNothing, pull2Algorithm, cancel2Algorithm);
    forwardReaderError(reader);
    return [branch1, branch2];
  }

  // interfacing with controllers
  function readableStreamCancel(stream, reason) {
    stream.disturbed = true;
    if (stream.state === "closed") return resolvedWith(undefined);
    if (stream.state === "errored") return rejectedWith(stream.storedError);
    readableStreamClose(stream);
    const reader = stream.reader;
    if (reader !== undefined && reader.byob) {
      const requests = reader.requests;
      reader.requests = [];
      for (const r of requests) r.close(undefined);
    }
    const controller = stream.controller;
    const sourceCancelPromise = controller.byte ? byteControllerCancelSteps(controller, reason) : defaultControllerCancelSteps(controller, reason);
    return upon(sourceCancelPromise, doNothing);
  }
  function readableStreamClose(stream) {
    stream.state = "closed";
    const reader = stream.reader;
    if (reader === undefined) return;
    resolveDeferred(reader.closed, undefined);
    if (!reader.byob) {
      const requests = reader.requests;
      reader.requests = [];
      for (const r of requests) r.close();
    }
  }
  function readableStreamError(stream, e) {
    stream.state = "errored";
    stream.storedError = e;
    const reader = stream.reader;
    if (reader === undefined) return;
    rejectDeferred(reader.closed, e);
    markHandled(reader.closed.promise);
    const requests = reader.requests;
    reader.requests = [];
    for (const r of requests) r.error(e);
  }
  function readableStreamFulfillReadRequest(stream, chunk, done) {
    const r = stream.reader.requests.shift();
    if (done) r.close(); else r.chunk(chunk);
  }
  function readableStreamFulfillReadIntoRequest(stream, chunk, done) {
    const r = stream.reader.requests.shift();
    if (done) r.close(chunk); else r.chunk(chunk);
  }
  function readableStreamNumRequests(stream) { return stream.reader.requests.length; }
  function hasDefaultReader(stream) { return stream.reader !== undefined && !stream.reader.byob; }
  function hasBYOBReader(stream) { return stream.reader !== undefined && stream.reader.byob; }

  // readers
  function readerGenericInitialize(reader, stream) {
    reader.stream = stream;
    stream.reader = reader;
    if (stream.state === "readable") reader.closed = newDeferred();
    else if (stream.state === "closed") reader.closed = settledDeferred(resolvedWith(undefined));
    else { reader.closed = settledDeferred(rejectedWith(stream.storedError)); markHandled(reader.closed.promise); }
  }
  function readableStreamReaderGenericCancel(reader, reason) { return readableStreamCancel(reader.stream, reason); }
  function readerGenericRelease(reader) {
    const stream = reader.stream;
    const released = new TypeError("Reader was released and can no longer be used to monitor the stream's closedness");
    if (stream.state === "readable" && reader.closed.pending) rejectDeferred(reader.closed, released);
    else reader.closed = settledDeferred(rejectedWith(released));
    markHandled(reader.closed.promise);
    const controller = stream.controller;
    if (controller.byte && controller.pendingPullIntos.length > 0) {
      const first = controller.pendingPullIntos[0];
      first.readerType = "none";
      controller.pendingPullIntos = [first];
    }
    stream.reader = undefined;
    reader.stream = undefined;
  }
  function errorRequests(reader, e) {
    const requests = reader.requests;
    reader.requests = [];
    for (const r of requests) r.error(e);
  }
  function readableStreamDefaultReaderRelease(reader) {
    readerGenericRelease(reader);
    errorRequests(reader, new TypeError("Reader was released"));
  }
  function readableStreamBYOBReaderRelease(reader) {
    readerGenericRelease(reader);
    errorRequests(reader, new TypeError("Reader was released"));
  }
  function readableStreamDefaultReaderRead(reader, readRequest) {
    const stream = reader.stream;
    stream.disturbed = true;
    if (stream.state === "closed") readRequest.close();
    else if (stream.state === "errored") readRequest.error(stream.storedError);
    else if (stream.controller.byte) byteControllerPullSteps(stream.controller, readRequest);
    else defaultControllerPullSteps(stream.controller, readRequest);
  }
  function readableStreamBYOBReaderRead(reader, view, min, readIntoRequest) {
    const stream = reader.stream;
    stream.disturbed = true;
    if (stream.state === "errored") readIntoRequest.error(stream.storedError);
    else readableByteStreamControllerPullInto(stream.controller, view, min, readIntoRequest);
  }
  function newReaderRecord(byob) { return { obj: null, stream: undefined, closed: null, requests: [], byob }; }
  function setUpDefaultReader(reader, stream) {
    if (stream.reader !== undefined) throw new TypeError("This stream has already been locked for exclusive reading by another reader");
    readerGenericInitialize(reader, stream);
    reader.requests = [];
  }
  function setUpBYOBReader(reader, stream) {
    if (stream.reader !== undefined) throw new TypeError("This stream has already been locked for exclusive reading by another reader");
    if (!stream.controller.byte) throw new TypeError("Cannot construct a ReadableStreamBYOBReader for a stream not constructed with a byte source");
    readerGenericInitialize(reader, stream);
    reader.requests = [];
  }
  function acquireDefaultReader(stream) {
    const reader = newReaderRecord(false);
    new ReadableStreamDefaultReader(INTERNAL, reader);
    setUpDefaultReader(reader, stream);
    return reader;
  }
  function acquireBYOBReader(stream) {
    const reader = newReaderRecord(true);
    new ReadableStreamBYOBReader(INTERNAL, reader);
    setUpBYOBReader(reader, stream);
    return reader;
  }
  function readerLockError(what) { return new TypeError("Cannot " + what + " a stream using a released reader"); }

  class ReadableStreamDefaultReader {
    #s;
    constructor(stream, record = undefined) {
      if (stream === INTERNAL) { this.#s = record; record.obj = this; return; }
      const s = rsRecordOf(stream, "ReadableStreamDefaultReader: the argument");
      const reader = newReaderRecord(false);
      this.#s = reader;
      reader.obj = this;
      setUpDefaultReader(reader, s);
    }
    get closed() { return this.#s.closed.promise; }
    cancel(reason = undefined) {
      const r = this.#s;
      if (r.stream === undefined) return rejectedWith(readerLockError("cancel"));
      return readableStreamReaderGenericCancel(r, reason);
    }
    read() {
      const r = this.#s;
      if (r.stream === undefined) return rejectedWith(readerLockError("read from"));
      const d = newDeferred();
      readableStreamDefaultReaderRead(r, {
        chunk: (chunk) => resolveDeferred(d, { value: chunk, done: false }),
        close: () => resolveDeferred(d, { value: undefined, done: true }),
        error: (e) => rejectDeferred(d, e),
      });
      return d.promise;
    }
    releaseLock() { const r = this.#s; if (r.stream !== undefined) readableStreamDefaultReaderRelease(r); }
    static { readerRecord = (x) => x.#s; }
  }

  let byobReaderRecord;
  class ReadableStreamBYOBReader {
    #s;
    constructor(stream, record = undefined) {
      if (stream === INTERNAL) { this.#s = record; record.obj = this; return; }
      const s = rsRecordOf(stream, "ReadableStreamBYOBReader: the argument");
      const reader = newReaderRecord(true);
      this.#s = reader;
      reader.obj = this;
      setUpBYOBReader(reader, s);
    }
    get closed() { return this.#s.closed.promise; }
    cancel(reason = undefined) {
      const r = this.#s;
      if (r.stream === undefined) return rejectedWith(readerLockError("cancel"));
      return readableStreamReaderGenericCancel(r, reason);
    }
    read(view, options = undefined) {
      const r = this.#s;
      if (!ArrayBuffer.isView(view)) return rejectedWith(new TypeError("read: view must be an ArrayBufferView"));
      let min;
      try {
        const dict = dictionaryOf(options, "read options");
        min = dict.min === undefined ? 1 : enforceRangeULL(dict.min, "options.min");
      } catch (e) { return rejectedWith(e); }
      if (view.byteLength === 0) return rejectedWith(new TypeError("view must have non-zero byteLength"));
      if (view.buffer.byteLength === 0) return rejectedWith(new TypeError("view's buffer must have non-zero byteLength"));
      if (isDetached(view.buffer)) return rejectedWith(new TypeError("view's buffer has been detached"));
      if (min === 0) return rejectedWith(new TypeError("options.min must be greater than 0"));
      if (!(view instanceof DataView)) {
        if (min > view.length) return rejectedWith(new RangeError("options.min must be less than or equal to view's length"));
      } else if (min > view.byteLength) return rejectedWith(new RangeError("options.min must be less than or equal to view's byteLength"));
      if (r.stream === undefined) return rejectedWith(readerLockError("read from"));
      const d = newDeferred();
      readableStreamBYOBReaderRead(r, view, min, {
        chunk: (chunk) => resolveDeferred(d, { value: chunk, done: false }),
        close: (chunk) => resolveDeferred(d, { value: chunk, done: true }),
        error: (e) => rejectDeferred(d, e),
      });
      return d.promise;
    }
    releaseLock() { const r = this.#s; if (r.stream !== undefined) readableStreamBYOBReaderRelease(r); }
    static { byobReaderRecord = (x) => x.#s; }
  }

  // default controllers
  function newDefaultControllerRecord() {
    return { obj: null, stream: undefined, queue: [], queueTotalSize: 0, started: false, closeRequested: false, pullAgain: false, pulling: false,
      size: undefined, hwm: 0, pull: undefined, cancel: undefined, byte: false };
  }
  class ReadableStreamDefaultController {
    #s;
    constructor(guard = undefined, record = undefined) {
      if (guard !== INTERNAL) throw new TypeError("Illegal constructor");
      this.#s = record; record.obj = this;
    }
    get desiredSize() { return readableStreamDefaultControllerGetDesiredSize(this.#s); }
    close() {
      const c = this.#s;
      if (!readableStreamDefaultControllerCanCloseOrEnqueue(c)) throw new TypeError("The stream is not in a state that permits close");
      readableStreamDefaultControllerClose(c);
    }
    enqueue(chunk = undefined) {
      const c = this.#s;
      if (!readableStreamDefaultControllerCanCloseOrEnqueue(c)) throw new TypeError("The stream is not in a state that permits enqueue");
      readableStreamDefaultControllerEnqueue(c, chunk);
    }
    error(e = undefined) { readableStreamDefaultControllerError(this.#s, e); }
    static { rsControllerRecord = (x) => x.#s; }
  }
  function defaultControllerCancelSteps(c, reason) {
    resetQueue(c);
    const result = c.cancel(reason);
    readableStreamDefaultControllerClearAlgorithms(c);
    return result;
  }
  function defaultControllerPullSteps(c, readRequest) {
    const stream = c.stream;
    if (c.queue.length > 0) {
      const chunk = dequeueValue(c);
      if (c.closeRequested && c.queue.length === 0) {
        readableStreamDefaultControllerClearAlgorithms(c);
        readableStreamClose(stream);
      } else readableStreamDefaultControllerCallPullIfNeeded(c);
      readRequest.chunk(chunk);
    } else {
      stream.reader.requests.push(readRequest);
      readableStreamDefaultControllerCallPullIfNeeded(c);
    }
  }
  function readableStreamDefaultControllerCallPullIfNeeded(c) {
    if (!readableStreamDefaultControllerShouldCallPull(c)) return;
    if (c.pulling) { c.pullAgain = true; return; }
    c.pulling = true;
    upon(c.pull(), () => {
      c.pulling = false;
      if (c.pullAgain) { c.pullAgain = false; readableStreamDefaultControllerCallPullIfNeeded(c); }
    }, (e) => readableStreamDefaultControllerError(c, e));
  }
  function readableStreamDefaultControllerShouldCallPull(c) {
    const stream = c.stream;
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(c) || !c.started) return false;
    if (stream.reader !== undefined && readableStreamNumRequests(stream) > 0) return true;
    return readableStreamDefaultControllerGetDesiredSize(c) > 0;
  }
  function readableStreamDefaultControllerClearAlgorithms(c) { c.pull = undefined; c.cancel = undefined; c.size = undefined; }
  function readableStreamDefaultControllerClose(c) {
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(c)) return;
    c.closeRequested = true;
    if (c.queue.length === 0) {
      readableStreamDefaultControllerClearAlgorithms(c);
      readableStreamClose(c.stream);
    }
  }
  function readableStreamDefaultControllerEnqueue(c, chunk) {
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(c)) return;
    const stream = c.stream;
    if (stream.reader !== undefined && readableStreamNumRequests(stream) > 0) {
      readableStreamFulfillReadRequest(stream, chunk, false);
    } else {
      let chunkSize;
      try { chunkSize = c.size(chunk); } catch (e) { readableStreamDefaultControllerError(c, e); throw e; }
      try { enqueueValueWithSize(c, chunk, chunkSize); } catch (e) { readableStreamDefaultControllerError(c, e); throw e; }
    }
    readableStreamDefaultControllerCallPullIfNeeded(c);
  }
  function readableStreamDefaultControllerError(c, e) {
    const stream = c.stream;
    if (stream.state !== "readable") return;
    resetQueue(c);
    readableStreamDefaultControllerClearAlgorithms(c);
    readableStreamError(stream, e);
  }
  function readableStreamDefaultControllerGetDesiredSize(c) {
    const state = c.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return c.hwm - c.queueTotalSize;
  }
  function readableStreamDefaultControllerHasBackpressure(c) { return !readableStreamDefaultControllerShouldCallPull(c); }
  function readableStreamDefaultControllerCanCloseOrEnqueue(c) { return !c.closeRequested && c.stream.state === "readable"; }
  function setUpDefaultController(stream, c, start, pull, cancel, hwm, size) {
    c.stream = stream;
    resetQueue(c);
    c.started = c.closeRequested = c.pullAgain = c.pulling = false;
    c.size = size; c.hwm = hwm; c.pull = pull; c.cancel = cancel;
    stream.controller = c;
    if (c.obj === null) new ReadableStreamDefaultController(INTERNAL, c);
    const startResult = start();
    upon(resolvedWith(startResult), () => {
      c.started = true;
      readableStreamDefaultControllerCallPullIfNeeded(c);
    }, (r) => readableStreamDefaultControllerError(c, r));
  }
  function setUpDefaultControllerFromSource(stream, source, dict, hwm, size) {
    const c = newDefaultControllerRecord();
    new ReadableStreamDefaultController(INTERNAL, c);
    const start = dict.start ? () => dict.start.call(source, c.obj) : doNothing;
    const pull = dict.pull ? () => promiseCall(dict.pull, source, [c.obj]) : () => resolvedWith(undefined);
    const cancel = dict.cancel ? (reason) => promiseCall(dict.cancel, source, [reason]) : () => resolvedWith(undefined);
    setUpDefaultController(stream, c, start, pull, cancel, hwm, size);
  }

  // byte stream controllers
  function newByteControllerRecord() {
    return { obj: null, stream: undefined, queue: [], queueTotalSize: 0, started: false, closeRequested: false, pullAgain: false, pulling: false,
      hwm: 0, pull: undefined, cancel: undefined, autoAllocateChunkSize: undefined, byobRequest: null, pendingPullIntos: [], byte: true };
  }
  let byteControllerRecord;
  class ReadableByteStreamController {
    #s;
    constructor(guard = undefined, record = undefined) {
      if (guard !== INTERNAL) throw new TypeError("Illegal constructor");
      this.#s = record; record.obj = this;
    }
    get byobRequest() { return readableByteStreamControllerGetBYOBRequest(this.#s); }
    get desiredSize() { return readableByteStreamControllerGetDesiredSize(this.#s); }
    close() {
      const c = this.#s;
      if (c.closeRequested) throw new TypeError("The stream has already been closed; do not close it again!");
      if (c.stream.state !== "readable") throw new TypeError("The stream (in " + c.stream.state + " state) is not in the readable state and cannot be closed");
      readableByteStreamControllerClose(c);
    }
    enqueue(chunk) {
      const c = this.#s;
      if (!ArrayBuffer.isView(chunk)) throw new TypeError("enqueue: chunk must be an ArrayBufferView");
      if (chunk.byteLength === 0) throw new TypeError("chunk must have non-zero byteLength");
      if (chunk.buffer.byteLength === 0) throw new TypeError("chunk's buffer must have non-zero byteLength");
      if (c.closeRequested) throw new TypeError("stream is closed or draining");
      if (c.stream.state !== "readable") throw new TypeError("The stream (in " + c.stream.state + " state) is not in the readable state and cannot be enqueued to");
      readableByteStreamControllerEnqueue(c, chunk);
    }
    error(e = undefined) { readableByteStreamControllerError(this.#s, e); }
    static { byteControllerRecord = (x) => x.#s; }
  }
  function byteControllerCancelSteps(c, reason) {
    readableByteStreamControllerClearPendingPullIntos(c);
    resetQueue(c);
    const result = c.cancel(reason);
    readableByteStreamControllerClearAlgorithms(c);
    return result;
  }
  function byteControllerPullSteps(c, readRequest) {
    const stream = c.stream;
    if (c.queueTotalSize > 0) { readableByteStreamControllerFillReadRequestFromQueue(c, readRequest); return; }
    const size = c.autoAllocateChunkSize;
    if (size !== undefined) {
      let buffer;
      try { buffer = new ArrayBuffer(size); } catch (e) { readRequest.error(e); return; }
      c.pendingPullIntos.push({ buffer, bufferByteLength: size, byteOffset: 0, byteLength: size, bytesFilled: 0, minimumFill: 1, elementSize: 1, viewConstructor: Uint8Array, readerType: "default" });
    }
    stream.reader.requests.push(readRequest);
    readableByteStreamControllerCallPullIfNeeded(c);
  }
  function readableByteStreamControllerCallPullIfNeeded(c) {
    if (!readableByteStreamControllerShouldCallPull(c)) return;
    if (c.pulling) { c.pullAgain = true; return; }
    c.pulling = true;
    upon(c.pull(), () => {
      c.pulling = false;
      if (c.pullAgain) { c.pullAgain = false; readableByteStreamControllerCallPullIfNeeded(c); }
    }, (e) => readableByteStreamControllerError(c, e));
  }
  function readableByteStreamControllerClearAlgorithms(c) { c.pull = undefined; c.cancel = undefined; }
  function readableByteStreamControllerClearPendingPullIntos(c) { readableByteStreamControllerInvalidateBYOBRequest(c); c.pendingPullIntos = []; }
  function readableByteStreamControllerClose(c) {
    const stream = c.stream;
    if (c.closeRequested || stream.state !== "readable") return;
    if (c.queueTotalSize > 0) { c.closeRequested = true; return; }
    if (c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos[0];
      if (first.bytesFilled % first.elementSize !== 0) {
        const e = new TypeError("Insufficient bytes to fill elements in the given buffer");
        readableByteStreamControllerError(c, e);
        throw e;
      }
    }
    readableByteStreamControllerClearAlgorithms(c);
    readableStreamClose(stream);
  }
  function readableByteStreamControllerCommitPullIntoDescriptor(stream, pullInto) {
    const done = stream.state === "closed";
    const filledView = readableByteStreamControllerConvertPullIntoDescriptor(pullInto);
    if (pullInto.readerType === "default") readableStreamFulfillReadRequest(stream, filledView, done);
    else readableStreamFulfillReadIntoRequest(stream, filledView, done);
  }
  function readableByteStreamControllerConvertPullIntoDescriptor(pullInto) {
    const buffer = transferBuffer(pullInto.buffer);
    return new pullInto.viewConstructor(buffer, pullInto.byteOffset, pullInto.bytesFilled / pullInto.elementSize);
  }
  function readableByteStreamControllerEnqueue(c, chunk) {
    const stream = c.stream;
    if (c.closeRequested || stream.state !== "readable") return;
    const { buffer, byteOffset, byteLength } = chunk;
    if (isDetached(buffer)) throw new TypeError("chunk's buffer is detached and so cannot be enqueued");
    const transferredBuffer = transferBuffer(buffer);
    if (c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos[0];
      if (isDetached(first.buffer)) throw new TypeError("The BYOB request's buffer has been detached and so cannot be filled with an enqueued chunk");
      readableByteStreamControllerInvalidateBYOBRequest(c);
      first.buffer = transferBuffer(first.buffer);
      if (first.readerType === "none") readableByteStreamControllerEnqueueDetachedPullIntoToQueue(c, first);
    }
    if (hasDefaultReader(stream)) {
      readableByteStreamControllerProcessReadRequestsUsingQueue(c);
      if (readableStreamNumRequests(stream) === 0) {
        readableByteStreamControllerEnqueueChunkToQueue(c, transferredBuffer, byteOffset, byteLength);
      } else {
        if (c.pendingPullIntos.length > 0) readableByteStreamControllerShiftPendingPullInto(c);
        readableStreamFulfillReadRequest(stream, new Uint8Array(transferredBuffer, byteOffset, byteLength), false);
      }
    } else if (hasBYOBReader(stream)) {
      readableByteStreamControllerEnqueueChunkToQueue(c, transferredBuffer, byteOffset, byteLength);
      const filled = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(c);
      for (const p of filled) readableByteStreamControllerCommitPullIntoDescriptor(stream, p);
    } else {
      readableByteStreamControllerEnqueueChunkToQueue(c, transferredBuffer, byteOffset, byteLength);
    }
    readableByteStreamControllerCallPullIfNeeded(c);
  }
  function readableByteStreamControllerEnqueueChunkToQueue(c, buffer, byteOffset, byteLength) {
    c.queue.push({ buffer, byteOffset, byteLength });
    c.queueTotalSize += byteLength;
  }
  function readableByteStreamControllerEnqueueClonedChunkToQueue(c, buffer, byteOffset, byteLength) {
    let cloned;
    try { cloned = buffer.slice(byteOffset, byteOffset + byteLength); } catch (e) { readableByteStreamControllerError(c, e); throw e; }
    readableByteStreamControllerEnqueueChunkToQueue(c, cloned, 0, byteLength);
  }
  function readableByteStreamControllerEnqueueDetachedPullIntoToQueue(c, first) {
    if (first.bytesFilled > 0) readableByteStreamControllerEnqueueClonedChunkToQueue(c, first.buffer, first.byteOffset, first.bytesFilled);
    readableByteStreamControllerShiftPendingPullInto(c);
  }
  function readableByteStreamControllerError(c, e) {
    const stream = c.stream;
    if (stream.state !== "readable") return;
    readableByteStreamControllerClearPendingPullIntos(c);
    resetQueue(c);
    readableByteStreamControllerClearAlgorithms(c);
    readableStreamError(stream, e);
  }
  function readableByteStreamControllerFillPullIntoDescriptorFromQueue(c, pullInto) {
    const maxBytesToCopy = Math.min(c.queueTotalSize, pullInto.byteLength - pullInto.bytesFilled);
    const maxBytesFilled = pullInto.bytesFilled + maxBytesToCopy;
    let totalBytesToCopyRemaining = maxBytesToCopy;
    let ready = false;
    const remainderBytes = maxBytesFilled % pullInto.elementSize;
    const maxAlignedBytes = maxBytesFilled - remainderBytes;
    if (maxAlignedBytes >= pullInto.minimumFill) {
      totalBytesToCopyRemaining = maxAlignedBytes - pullInto.bytesFilled;
      ready = true;
    }
    const queue = c.queue;
    while (totalBytesToCopyRemaining > 0) {
      const head = queue[0];
      const bytesToCopy = Math.min(totalBytesToCopyRemaining, head.byteLength);
      const destStart = pullInto.byteOffset + pullInto.bytesFilled;
      copyBytes(pullInto.buffer, destStart, head.buffer, head.byteOffset, bytesToCopy);
      if (head.byteLength === bytesToCopy) queue.shift();
      else { head.byteOffset += bytesToCopy; head.byteLength -= bytesToCopy; }
      c.queueTotalSize -= bytesToCopy;
      pullInto.bytesFilled += bytesToCopy;
      totalBytesToCopyRemaining -= bytesToCopy;
    }
    return ready;
  }
  function readableByteStreamControllerFillReadRequestFromQueue(c, readRequest) {
    const entry = c.queue.shift();
    c.queueTotalSize -= entry.byteLength;
    readableByteStreamControllerHandleQueueDrain(c);
    readRequest.chunk(new Uint8Array(entry.buffer, entry.byteOffset, entry.byteLength));
  }
  function readableByteStreamControllerGetBYOBRequest(c) {
    if (c.byobRequest === null && c.pendingPullIntos.length > 0) {
      const first = c.pendingPullIntos[0];
      const view = new Uint8Array(first.buffer, first.byteOffset + first.bytesFilled, first.byteLength - first.bytesFilled);
      c.byobRequest = new ReadableStreamBYOBRequest(INTERNAL, { controller: c, view });
    }
    return c.byobRequest;
  }
  function readableByteStreamControllerGetDesiredSize(c) {
    const state = c.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return c.hwm - c.queueTotalSize;
  }
  function readableByteStreamControllerHandleQueueDrain(c) {
    if (c.queueTotalSize === 0 && c.closeRequested) {
      readableByteStreamControllerClearAlgorithms(c);
      readableStreamClose(c.stream);
    } else readableByteStreamControllerCallPullIfNeeded(c);
  }
  function readableByteStreamControllerInvalidateBYOBRequest(c) {
    if (c.byobRequest === null) return;
    const r = byobRequestRecord(c.byobRequest);
    r.controller = undefined;
    r.view = null;
    c.byobRequest = null;
  }
  function readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(c) {
    const filled = [];
    while (c.pendingPullIntos.length > 0) {
      if (c.queueTotalSize === 0) break;
      const pullInto = c.pendingPullIntos[0];
      if (readableByteStreamControllerFillPullIntoDescriptorFromQueue(c, pullInto)) {
        readableByteStreamControllerShiftPendingPullInto(c);
        filled.push(pullInto);
      }
    }
    return filled;
  }
  function readableByteStreamControllerProcessReadRequestsUsingQueue(c) {
    const reader = c.stream.reader;
    while (reader.requests.length > 0) {
      if (c.queueTotalSize === 0) return;
      readableByteStreamControllerFillReadRequestFromQueue(c, reader.requests.shift());
    }
  }
  function readableByteStreamControllerPullInto(c, view, min, readIntoRequest) {
    const stream = c.stream;
    const ctor = view.constructor;
    const elementSize = view instanceof DataView ? 1 : ctor.BYTES_PER_ELEMENT;
    const minimumFill = min * elementSize;
    const byteOffset = view.byteOffset, byteLength = view.byteLength;
    let buffer;
    try { buffer = transferBuffer(view.buffer); } catch (e) { readIntoRequest.error(e); return; }
    const pullInto = { buffer, bufferByteLength: buffer.byteLength, byteOffset, byteLength, bytesFilled: 0, minimumFill, elementSize, viewConstructor: view instanceof DataView ? DataView : ctor, readerType: "byob" };
    if (c.pendingPullIntos.length > 0) {
      c.pendingPullIntos.push(pullInto);
      stream.reader.requests.push(readIntoRequest);
      return;
    }
    if (stream.state === "closed") {
      readIntoRequest.close(new pullInto.viewConstructor(pullInto.buffer, pullInto.byteOffset, 0));
      return;
    }
    if (c.queueTotalSize > 0) {
      if (readableByteStreamControllerFillPullIntoDescriptorFromQueue(c, pullInto)) {
        const filledView = readableByteStreamControllerConvertPullIntoDescriptor(pullInto);
        readableByteStreamControllerHandleQueueDrain(c);
        readIntoRequest.chunk(filledView);
        return;
      }
      if (c.closeRequested) {
        const e = new TypeError("Insufficient bytes to fill elements in the given buffer");
        readableByteStreamControllerError(c, e);
        readIntoRequest.error(e);
        return;
      }
    }
    c.pendingPullIntos.push(pullInto);
    stream.reader.requests.push(readIntoRequest);
    readableByteStreamControllerCallPullIfNeeded(c);
  }
  function readableByteStreamControllerRespond(c, bytesWritten) {
    const first = c.pendingPullIntos[0];
    const state = c.stream.state;
    if (state === "closed") {
      if (bytesWritten !== 0) throw new TypeError("bytesWritten must be 0 when calling respond() on a closed stream");
    } else {
      if (bytesWritten === 0) throw new TypeError("bytesWritten must be greater than 0 when calling respond() on a readable stream");
      if (first.bytesFilled + bytesWritten > first.byteLength) throw new RangeError("bytesWritten out of range");
    }
    first.buffer = transferBuffer(first.buffer);
    readableByteStreamControllerRespondInternal(c, bytesWritten);
  }
  function readableByteStreamControllerRespondInClosedState(c, first) {
    if (first.readerType === "none") readableByteStreamControllerShiftPendingPullInto(c);
    const stream = c.stream;
    if (hasBYOBReader(stream)) {
      const filled = [];
      while (filled.length < readableStreamNumRequests(stream)) filled.push(readableByteStreamControllerShiftPendingPullInto(c));
      for (const p of filled) readableByteStreamControllerCommitPullIntoDescriptor(stream, p);
    }
  }
  function readableByteStreamControllerRespondInReadableState(c, bytesWritten, pullInto) {
    pullInto.bytesFilled += bytesWritten;
    if (pullInto.readerType === "none") {
      readableByteStreamControllerEnqueueDetachedPullIntoToQueue(c, pullInto);
      const filled = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(c);
      for (const p of filled) readableByteStreamControllerCommitPullIntoDescriptor(c.stream, p);
      return;
    }
    if (pullInto.bytesFilled < pullInto.minimumFill) return;
    readableByteStreamControllerShiftPendingPullInto(c);
    const remainderSize = pullInto.bytesFilled % pullInto.elementSize;
    if (remainderSize > 0) {
      const end = pullInto.byteOffset + pullInto.bytesFilled;
      readableByteStreamControllerEnqueueClonedChunkToQueue(c, pullInto.buffer, end - remainderSize, remainderSize);
    }
    pullInto.bytesFilled -= remainderSize;
    const filled = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(c);
    readableByteStreamControllerCommitPullIntoDescriptor(c.stream, pullInto);
    for (const p of filled) readableByteStreamControllerCommitPullIntoDescriptor(c.stream, p);
  }
  function readableByteStreamControllerRespondInternal(c, bytesWritten) {
    const first = c.pendingPullIntos[0];
    readableByteStreamControllerInvalidateBYOBRequest(c);
    if (c.stream.state === "closed") readableByteStreamControllerRespondInClosedState(c, first);
    else readableByteStreamControllerRespondInReadableState(c, bytesWritten, first);
    readableByteStreamControllerCallPullIfNeeded(c);
  }
  function readableByteStreamControllerRespondWithNewView(c, view) {
    const first = c.pendingPullIntos[0];
    const state = c.stream.state;
    if (state === "closed") {
      if (view.byteLength !== 0) throw new TypeError("The view's length must be 0 when calling respondWithNewView() on a closed stream");
    } else if (view.byteLength === 0) {
      throw new TypeError("The view's length must be greater than 0 when calling respondWithNewView() on a readable stream");
    }
    if (first.byteOffset + first.bytesFilled !== view.byteOffset) throw new RangeError("The region specified by view does not match byobRequest");
    if (first.bufferByteLength !== view.buffer.byteLength) throw new RangeError("The buffer of view has different capacity than byobRequest");
    if (first.bytesFilled + view.byteLength > first.byteLength) throw new RangeError("The region specified by view is larger than byobRequest");
    const viewByteLength = view.byteLength;
    first.buffer = transferBuffer(view.buffer);
    readableByteStreamControllerRespondInternal(c, viewByteLength);
  }
  function readableByteStreamControllerShiftPendingPullInto(c) { return c.pendingPullIntos.shift(); }
  function readableByteStreamControllerShouldCallPull(c) {
    const stream = c.stream;
    if (stream.state !== "readable" || c.closeRequested || !c.started) return false;
    if (stream.reader !== undefined && readableStreamNumRequests(stream) > 0) return true;
    return readableByteStreamControllerGetDesiredSize(c) > 0;
  }
  function setUpByteController(stream, c, start, pull, cancel, hwm, autoAllocateChunkSize) {
    c.stream = stream;
    c.pullAgain = c.pulling = false;
    c.byobRequest = null;
    resetQueue(c);
    c.closeRequested = c.started = false;
    c.hwm = hwm; c.pull = pull; c.cancel = cancel;
    c.autoAllocateChunkSize = autoAllocateChunkSize;
    c.pendingPullIntos = [];
    stream.controller = c;
    if (c.obj === null) new ReadableByteStreamController(INTERNAL, c);
    const startResult = start();
    upon(resolvedWith(startResult), () => {
      c.started = true;
      readableByteStreamControllerCallPullIfNeeded(c);
    }, (r) => readableByteStreamControllerError(c, r));
  }
  function setUpByteControllerFromSource(stream, source, dict, hwm) {
    const c = newByteControllerRecord();
    new ReadableByteStreamController(INTERNAL, c);
    const start = dict.start ? () => dict.start.call(source, c.obj) : doNothing;
    const pull = dict.pull ? () => promiseCall(dict.pull, source, [c.obj]) : () => resolvedWith(undefined);
    const cancel = dict.cancel ? (reason) => promiseCall(dict.cancel, source, [reason]) : () => resolvedWith(undefined);
    if (dict.autoAllocateChunkSize === 0) throw new TypeError("autoAllocateChunkSize must be greater than 0");
    setUpByteController(stream, c, start, pull, cancel, hwm, dict.autoAllocateChunkSize);
  }

  class ReadableStreamBYOBRequest {
    #s;
    constructor(guard = undefined, record = undefined) {
      if (guard !== INTERNAL) throw new TypeError("Illegal constructor");
      this.#s = record;
    }
    get view() { return this.#s.view; }
    respond(bytesWritten) {
      const r = this.#s;
      bytesWritten = enforceRangeULL(bytesWritten, "bytesWritten");
      if (r.controller === undefined) throw new TypeError("This BYOB request has been invalidated");
      if (isDetached(r.view.buffer)) throw new TypeError("The BYOB request's buffer has been detached and so cannot be used as a response");
      readableByteStreamControllerRespond(r.controller, bytesWritten);
    }
    respondWithNewView(view) {
      const r = this.#s;
      if (!ArrayBuffer.isView(view)) throw new TypeError("respondWithNewView: view must be an ArrayBufferView");
      if (r.controller === undefined) throw new TypeError("This BYOB request has been invalidated");
      if (isDetached(view.buffer)) throw new TypeError("The given view's buffer has been detached and so cannot be used as a response");
      readableByteStreamControllerRespondWithNewView(r.controller, view);
    }
    static { byobRequestRecord = (x) => x.#s; }
  }

  function readableStreamFromIterable(asyncIterable) {
    let stream;
    if (asyncIterable === null || asyncIterable === undefined) throw new TypeError("ReadableStream.from: the argument is not iterable");
    let method = asyncIterable[Symbol.asyncIterator];
    let iterator, next;
    if (method === undefined || method === null) {
      const syncMethod = asyncIterable[Symbol.iterator];
      if (typeof syncMethod !== "function") throw new TypeError("ReadableStream.from: the argument is not iterable");
      const syncIterator = syncMethod.call(asyncIterable);
      if (!isObjectValue(syncIterator)) throw new TypeError("ReadableStream.from: the iterator is not an object");
      const syncNext = syncIterator.next;
      // CreateAsyncFromSyncIterator
      iterator = {
        next() {
          let result;
          try { result = syncNext.call(syncIterator); } catch (e) { return rejectedWith(e); }
          if (!isObjectValue(result)) return rejectedWith(new TypeError("iterator result is not an object"));
          let done, value;
          try { done = !!result.done; value = result.value; } catch (e) { return rejectedWith(e); }
          return upon(resolvedWith(value), (v) => ({ value: v, done }), (e) => {
            if (!done) {
              try { const ret = syncIterator.return; if (ret !== undefined && ret !== null) ret.call(syncIterator); }
              catch (closeError) { doNothing(closeError); } // the first error wins
            }
            throw e;
          });
        },
        return(value) {
          let ret;
          try { ret = syncIterator.return; } catch (e) { return rejectedWith(e); }
          if (ret === undefined || ret === null) return resolvedWith({ value, done: true });
          let result;
          try { result = ret.call(syncIterator, value); } catch (e) { return rejectedWith(e); }
          if (!isObjectValue(result)) return rejectedWith(new TypeError("iterator result is not an object"));
          let done, v;
          try { done = !!result.done; v = result.value; } catch (e) { return rejectedWith(e); }
          return upon(resolvedWith(v), (x) => ({ value: x, done }));
        },
      };
      next = iterator.next;
    } else {
      if (typeof method !== "function") throw new TypeError("ReadableStream.from: Symbol.asyncIterator is not a function");
      iterator = method.call(asyncIterable);
      if (!isObjectValue(iterator)) throw new TypeError("ReadableStream.from: the iterator is not an object");
      next = iterator.next;
    }
    function pullAlgorithm() {
      let nextResult;
      try { nextResult = next.call(iterator); } catch (e) { return rejectedWith(e); }
      return upon(resolvedWith(nextResult), (iterResult) => {
        if (!isObjectValue(iterResult)) throw new TypeError("The promise returned by the iterator.next() method must fulfill with an object");
        if (iterResult.done) readableStreamDefaultControllerClose(stream.controller);
        else readableStreamDefaultControllerEnqueue(stream.controller, iterResult.value);
      });
    }
    function cancelAlgorithm(reason) {
      let returnMethod;
      try { returnMethod = iterator.return; } catch (e) { return rejectedWith(e); }
      if (returnMethod === undefined || returnMethod === null) return resolvedWith(undefined);
      let returnResult;
      try { returnResult = returnMethod.call(iterator, reason); } catch (e) { return rejectedWith(e); }
      return upon(resolvedWith(returnResult), (iterResult) => {
        if (!isObjectValue(iterResult)) throw new TypeError("The promise returned by the iterator.return() method must fulfill with an object");
      });
    }
    stream = createReadableStream(doNothing, pullAlgorithm, cancelAlgorithm, 0);
    return stream;
  }

  // ---- WritableStream ----

  let wsRecord, writerRecord, wsControllerRecord;
  const closeSentinel = Symbol("close sentinel");

  function newWritableStreamRecord(obj) {
    return { obj, state: "writable", storedError: undefined, writer: undefined, controller: undefined, inFlightWriteRequest: undefined,
      closeRequest: undefined, inFlightCloseRequest: undefined, pendingAbortRequest: undefined, writeRequests: [], backpressure: false };
  }
  class WritableStream {
    #s;
    constructor(underlyingSink = undefined, strategy = undefined) {
      if (underlyingSink === INTERNAL) { this.#s = strategy; strategy.obj = this; return; }
      const strategyDict = queuingStrategy(strategy);
      if (underlyingSink === null) throw new TypeError("WritableStream: the underlying sink must be an object");
      const sink = underlyingSink === undefined ? {} : dictionaryOf(underlyingSink, "the underlying sink");
      const dict = {
        abort: callbackMember(sink, "abort", "underlyingSink"),
        close: callbackMember(sink, "close", "underlyingSink"),
        start: callbackMember(sink, "start", "underlyingSink"),
        type: sink.type,
        write: callbackMember(sink, "write", "underlyingSink"),
      };
      if (dict.type !== undefined) throw new RangeError("Invalid type is specified");
      this.#s = newWritableStreamRecord(this);
      const size = extractSizeAlgorithm(strategyDict);
      const hwm = extractHighWaterMark(strategyDict, 1);
      setUpWritableStreamDefaultControllerFromSink(this.#s, underlyingSink, dict, hwm, size);
    }
    get locked() { return this.#s.writer !== undefined; }
    abort(reason = undefined) {
      const s = this.#s;
      if (s.writer !== undefined) return rejectedWith(new TypeError("Cannot abort a stream that already has a writer"));
      return writableStreamAbort(s, reason);
    }
    close() {
      const s = this.#s;
      if (s.writer !== undefined) return rejectedWith(new TypeError("Cannot close a stream that already has a writer"));
      if (writableStreamCloseQueuedOrInFlight(s)) return rejectedWith(new TypeError("Cannot close an already-closing stream"));
      return writableStreamClose(s);
    }
    getWriter() { return acquireWriter(this.#s).obj; }
    static { wsRecord = (x) => x.#s; }
  }
  function wsRecordOf(value, what) {
    try { return wsRecord(value); } catch (e) { throw new TypeError(what + " is not a WritableStream"); }
  }
  function acquireWriter(stream) {
    const writer = { obj: null, stream: undefined, ready: null, closed: null };
    new WritableStreamDefaultWriter(INTERNAL, writer);
    setUpWritableStreamDefaultWriter(writer, stream);
    return writer;
  }
  function createWritableStream(start, write, close, abort, hwm = 1, size = () => 1) {
    const s = newWritableStreamRecord(null);
    new WritableStream(INTERNAL, s);
    setUpWritableStreamDefaultController(s, newWritableControllerRecord(), start, write, close, abort, hwm, size);
    return s;
  }
  function writableStreamAbort(stream, reason) {
    if (stream.state === "closed" || stream.state === "errored") return resolvedWith(undefined);
    signalAbort(stream.controller.abortController.signal, reason);
    const state = stream.state;
    if (state === "closed" || state === "errored") return resolvedWith(undefined);
    if (stream.pendingAbortRequest !== undefined) return stream.pendingAbortRequest.deferred.promise;
    let wasAlreadyErroring = false;
    if (state === "erroring") { wasAlreadyErroring = true; reason = undefined; }
    const deferred = newDeferred();
    stream.pendingAbortRequest = { deferred, reason, wasAlreadyErroring };
    if (!wasAlreadyErroring) writableStreamStartErroring(stream, reason);
    return deferred.promise;
  }
  function writableStreamClose(stream) {
    const state = stream.state;
    if (state === "closed" || state === "errored") return rejectedWith(new TypeError("The stream (in " + state + " state) is not in the writable state and cannot be closed"));
    const deferred = newDeferred();
    stream.closeRequest = deferred;
    const writer = stream.writer;
    if (writer !== undefined && stream.backpressure && state === "writable") resolveDeferred(writer.ready, undefined);
    enqueueValueWithSize(stream.controller, closeSentinel, 0);
    writableStreamDefaultControllerAdvanceQueueIfNeeded(stream.controller);
    return deferred.promise;
  }
  function writableStreamCloseQueuedOrInFlight(stream) { return stream.closeRequest !== undefined || stream.inFlightCloseRequest !== undefined; }
  function writableStreamDealWithRejection(stream, error) {
    if (stream.state === "writable") { writableStreamStartErroring(stream, error); return; }
    writableStreamFinishErroring(stream);
  }
  function writableStreamFinishErroring(stream) {
    stream.state = "errored";
    resetQueue(stream.controller);
    const storedError = stream.storedError;
    for (const request of stream.writeRequests) rejectDeferred(request, storedError);
    stream.writeRequests = [];
    if (stream.pendingAbortRequest === undefined) { writableStreamRejectCloseAndClosedPromiseIfNeeded(stream); return; }
    const abortRequest = stream.pendingAbortRequest;
    stream.pendingAbortRequest = undefined;
    if (abortRequest.wasAlreadyErroring) {
      rejectDeferred(abortRequest.deferred, storedError);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      return;
    }
    const controller = stream.controller;
    const promise = controller.abort(abortRequest.reason);
    writableStreamDefaultControllerClearAlgorithms(controller);
    upon(promise, () => {
      resolveDeferred(abortRequest.deferred, undefined);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    }, (reason) => {
      rejectDeferred(abortRequest.deferred, reason);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    });
  }
  function writableStreamFinishInFlightClose(stream) {
    resolveDeferred(stream.inFlightCloseRequest, undefined);
    stream.inFlightCloseRequest = undefined;
    if (stream.state === "erroring") {
      stream.storedError = undefined;
      if (stream.pendingAbortRequest !== undefined) {
        resolveDeferred(stream.pendingAbortRequest.deferred, undefined);
        stream.pendingAbortRequest = undefined;
      }
    }
    stream.state = "closed";
    if (stream.writer !== undefined) resolveDeferred(stream.writer.closed, undefined);
  }
  function writableStreamFinishInFlightCloseWithError(stream, error) {
    rejectDeferred(stream.inFlightCloseRequest, error);
    stream.inFlightCloseRequest = undefined;
    if (stream.pendingAbortRequest !== undefined) {
      rejectDeferred(stream.pendingAbortRequest.deferred, error);
      stream.pendingAbortRequest = undefined;
    }
    writableStreamDealWithRejection(stream, error);
  }
  function writableStreamFinishInFlightWrite(stream) {
    resolveDeferred(stream.inFlightWriteRequest, undefined);
    stream.inFlightWriteRequest = undefined;
  }
  function writableStreamFinishInFlightWriteWithError(stream, error) {
    rejectDeferred(stream.inFlightWriteRequest, error);
    stream.inFlightWriteRequest = undefined;
    writableStreamDealWithRejection(stream, error);
  }
  function writableStreamHasOperationMarkedInFlight(stream) { return stream.inFlightWriteRequest !== undefined || stream.inFlightCloseRequest !== undefined; }
  function writableStreamRejectCloseAndClosedPromiseIfNeeded(stream) {
    if (stream.closeRequest !== undefined) {
      rejectDeferred(stream.closeRequest, stream.storedError);
      stream.closeRequest = undefined;
    }
    const writer = stream.writer;
    if (writer !== undefined) {
      rejectDeferred(writer.closed, stream.storedError);
      markHandled(writer.closed.promise);
    }
  }
  function writableStreamStartErroring(stream, reason) {
    const controller = stream.controller;
    stream.state = "erroring";
    stream.storedError = reason;
    const writer = stream.writer;
    if (writer !== undefined) writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, reason);
    if (!writableStreamHasOperationMarkedInFlight(stream) && controller.started) writableStreamFinishErroring(stream);
  }
  function writableStreamUpdateBackpressure(stream, backpressure) {
    const writer = stream.writer;
    if (writer !== undefined && backpressure !== stream.backpressure) {
      if (backpressure) writer.ready = newDeferred();
      else resolveDeferred(writer.ready, undefined);
    }
    stream.backpressure = backpressure;
  }

  // writers
  function setUpWritableStreamDefaultWriter(writer, stream) {
    if (stream.writer !== undefined) throw new TypeError("This stream has already been locked for exclusive writing by another writer");
    writer.stream = stream;
    stream.writer = writer;
    const state = stream.state;
    if (state === "writable") {
      writer.ready = !writableStreamCloseQueuedOrInFlight(stream) && stream.backpressure ? newDeferred() : settledDeferred(resolvedWith(undefined));
      writer.closed = newDeferred();
    } else if (state === "erroring") {
      writer.ready = settledDeferred(rejectedWith(stream.storedError));
      markHandled(writer.ready.promise);
      writer.closed = newDeferred();
    } else if (state === "closed") {
      writer.ready = settledDeferred(resolvedWith(undefined));
      writer.closed = settledDeferred(resolvedWith(undefined));
    } else {
      writer.ready = settledDeferred(rejectedWith(stream.storedError));
      markHandled(writer.ready.promise);
      writer.closed = settledDeferred(rejectedWith(stream.storedError));
      markHandled(writer.closed.promise);
    }
  }
  function writableStreamDefaultWriterCloseWithErrorPropagation(writer) {
    const stream = writer.stream;
    const state = stream.state;
    if (writableStreamCloseQueuedOrInFlight(stream) || state === "closed") return resolvedWith(undefined);
    if (state === "errored") return rejectedWith(stream.storedError);
    return writableStreamClose(stream);
  }
  function writableStreamDefaultWriterEnsureClosedPromiseRejected(writer, error) {
    if (writer.closed.pending) rejectDeferred(writer.closed, error);
    else writer.closed = settledDeferred(rejectedWith(error));
    markHandled(writer.closed.promise);
  }
  function writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, error) {
    if (writer.ready.pending) rejectDeferred(writer.ready, error);
    else writer.ready = settledDeferred(rejectedWith(error));
    markHandled(writer.ready.promise);
  }
  function writableStreamDefaultWriterGetDesiredSize(writer) {
    const stream = writer.stream;
    const state = stream.state;
    if (state === "errored" || state === "erroring") return null;
    if (state === "closed") return 0;
    return stream.controller.hwm - stream.controller.queueTotalSize;
  }
  function writableStreamDefaultWriterRelease(writer) {
    const stream = writer.stream;
    const released = new TypeError("Writer was released and can no longer be used to monitor the stream's closedness");
    writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, released);
    writableStreamDefaultWriterEnsureClosedPromiseRejected(writer, released);
    stream.writer = undefined;
    writer.stream = undefined;
  }
  function writableStreamDefaultWriterWrite(writer, chunk) {
    const stream = writer.stream;
    const controller = stream.controller;
    const chunkSize = writableStreamDefaultControllerGetChunkSize(controller, chunk);
    if (stream !== writer.stream) return rejectedWith(new TypeError("Cannot write to a stream using a released writer"));
    const state = stream.state;
    if (state === "errored") return rejectedWith(stream.storedError);
    if (writableStreamCloseQueuedOrInFlight(stream) || state === "closed") return rejectedWith(new TypeError("The stream is closing or closed and cannot be written to"));
    if (state === "erroring") return rejectedWith(stream.storedError);
    const deferred = newDeferred();
    stream.writeRequests.push(deferred);
    writableStreamDefaultControllerWrite(controller, chunk, chunkSize);
    return deferred.promise;
  }
  function writerLockError(what) { return new TypeError("Cannot " + what + " a stream using a released writer"); }

  class WritableStreamDefaultWriter {
    #s;
    constructor(stream, record = undefined) {
      if (stream === INTERNAL) { this.#s = record; record.obj = this; return; }
      const s = wsRecordOf(stream, "WritableStreamDefaultWriter: the argument");
      const writer = { obj: this, stream: undefined, ready: null, closed: null };
      this.#s = writer;
      setUpWritableStreamDefaultWriter(writer, s);
    }
    get closed() { return this.#s.closed.promise; }
    get desiredSize() {
      const w = this.#s;
      if (w.stream === undefined) throw writerLockError("get the desiredSize of");
      return writableStreamDefaultWriterGetDesiredSize(w);
    }
    get ready() { return this.#s.ready.promise; }
    abort(reason = undefined) {
      const w = this.#s;
      if (w.stream === undefined) return rejectedWith(writerLockError("abort"));
      return writableStreamAbort(w.stream, reason);
    }
    close() {
      const w = this.#s;
      const stream = w.stream;
      if (stream === undefined) return rejectedWith(writerLockError("close"));
      if (writableStreamCloseQueuedOrInFlight(stream)) return rejectedWith(new TypeError("Cannot close an already-closing stream"));
      return writableStreamClose(stream);
    }
    releaseLock() { const w = this.#s; if (w.stream !== undefined) writableStreamDefaultWriterRelease(w); }
    write(chunk = undefined) {
      const w = this.#s;
      if (w.stream === undefined) return rejectedWith(writerLockError("write to"));
      return writableStreamDefaultWriterWrite(w, chunk);
    }
    static { writerRecord = (x) => x.#s; }
  }

  // writable stream default controllers
  function newWritableControllerRecord() {
    return { obj: null, stream: undefined, queue: [], queueTotalSize: 0, abortController: null, started: false, size: undefined, hwm: 1,
      write: undefined, close: undefined, abort: undefined };
  }
  class WritableStreamDefaultController {
    #s;
    constructor(guard = undefined, record = undefined) {
      if (guard !== INTERNAL) throw new TypeError("Illegal constructor");
      this.#s = record; record.obj = this;
    }
    get signal() { return this.#s.abortController.signal; }
    error(e = undefined) {
      const c = this.#s;
      if (c.stream.state !== "writable") return;
      writableStreamDefaultControllerError(c, e);
    }
    static { wsControllerRecord = (x) => x.#s; }
  }
  function setUpWritableStreamDefaultController(stream, c, start, write, close, abort, hwm, size) {
    c.stream = stream;
    stream.controller = c;
    if (c.obj === null) new WritableStreamDefaultController(INTERNAL, c);
    resetQueue(c);
    c.abortController = newAbortController();
    c.started = false;
    c.size = size; c.hwm = hwm;
    c.write = write; c.close = close; c.abort = abort;
    writableStreamUpdateBackpressure(stream, writableStreamDefaultControllerGetBackpressure(c));
    const startResult = start();
    upon(resolvedWith(startResult), () => {
      c.started = true;
      writableStreamDefaultControllerAdvanceQueueIfNeeded(c);
    }, (r) => {
      c.started = true;
      writableStreamDealWithRejection(stream, r);
    });
  }
  function setUpWritableStreamDefaultControllerFromSink(stream, sink, dict, hwm, size) {
    const c = newWritableControllerRecord();
    new WritableStreamDefaultController(INTERNAL, c);
    const start = dict.start ? () => dict.start.call(sink, c.obj) : doNothing;
    const write = dict.write ? (chunk) => promiseCall(dict.write, sink, [chunk, c.obj]) : () => resolvedWith(undefined);
    const close = dict.close ? () => promiseCall(dict.close, sink, []) : () => resolvedWith(undefined);
    const abort = dict.abort ? (reason) => promiseCall(dict.abort, sink, [reason]) : () => resolvedWith(undefined);
    setUpWritableStreamDefaultController(stream, c, start, write, close, abort, hwm, size);
  }
  function writableStreamDefaultControllerAdvanceQueueIfNeeded(c) {
    const stream = c.stream;
    if (!c.started || stream.inFlightWriteRequest !== undefined) return;
    if (stream.state === "erroring") { writableStreamFinishErroring(stream); return; }
    if (c.queue.length === 0) return;
    const value = c.queue[0].value;
    if (value === closeSentinel) writableStreamDefaultControllerProcessClose(c);
    else writableStreamDefaultControllerProcessWrite(c, value);
  }
  function writableStreamDefaultControllerClearAlgorithms(c) { c.write = c.close = c.abort = c.size = undefined; }
  function writableStreamDefaultControllerError(c, error) {
    writableStreamDefaultControllerClearAlgorithms(c);
    writableStreamStartErroring(c.stream, error);
  }
  function writableStreamDefaultControllerErrorIfNeeded(c, error) {
    if (c.stream.state === "writable") writableStreamDefaultControllerError(c, error);
  }
  function writableStreamDefaultControllerGetBackpressure(c) { return c.hwm - c.queueTotalSize <= 0; }
  function writableStreamDefaultControllerGetChunkSize(c, chunk) {
    if (c.size === undefined) return 1;
    try { return c.size(chunk); } catch (e) { writableStreamDefaultControllerErrorIfNeeded(c, e); return 1; }
  }
  function writableStreamDefaultControllerProcessClose(c) {
    const stream = c.stream;
    stream.inFlightCloseRequest = stream.closeRequest;
    stream.closeRequest = undefined;
    dequeueValue(c);
    const sinkClosePromise = c.close();
    writableStreamDefaultControllerClearAlgorithms(c);
    upon(sinkClosePromise, () => writableStreamFinishInFlightClose(stream), (reason) => writableStreamFinishInFlightCloseWithError(stream, reason));
  }
  function writableStreamDefaultControllerProcessWrite(c, chunk) {
    const stream = c.stream;
    stream.inFlightWriteRequest = stream.writeRequests.shift();
    upon(c.write(chunk), () => {
      writableStreamFinishInFlightWrite(stream);
      const state = stream.state;
      dequeueValue(c);
      if (!writableStreamCloseQueuedOrInFlight(stream) && state === "writable") writableStreamUpdateBackpressure(stream, writableStreamDefaultControllerGetBackpressure(c));
      writableStreamDefaultControllerAdvanceQueueIfNeeded(c);
    }, (reason) => {
      if (stream.state === "writable") writableStreamDefaultControllerClearAlgorithms(c);
      writableStreamFinishInFlightWriteWithError(stream, reason);
    });
  }
  function writableStreamDefaultControllerWrite(c, chunk, chunkSize) {
    try { enqueueValueWithSize(c, chunk, chunkSize); } catch (e) { writableStreamDefaultControllerErrorIfNeeded(c, e); return; }
    const stream = c.stream;
    if (!writableStreamCloseQueuedOrInFlight(stream) && stream.state === "writable") writableStreamUpdateBackpressure(stream, writableStreamDefaultControllerGetBackpressure(c));
    writableStreamDefaultControllerAdvanceQueueIfNeeded(c);
  }

  // ---- TransformStream ----

  let tsRecord, tsControllerRecord;
  class TransformStream {
    #s;
    constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
      const writableDict = queuingStrategy(writableStrategy);
      const readableDict = queuingStrategy(readableStrategy);
      if (transformer === null) throw new TypeError("TransformStream: the transformer must be an object");
      const t = transformer === undefined ? {} : dictionaryOf(transformer, "the transformer");
      const dict = {
        cancel: callbackMember(t, "cancel", "transformer"),
        flush: callbackMember(t, "flush", "transformer"),
        readableType: t.readableType,
        start: callbackMember(t, "start", "transformer"),
        transform: callbackMember(t, "transform", "transformer"),
        writableType: t.writableType,
      };
      if (dict.readableType !== undefined) throw new RangeError("Invalid readableType specified");
      if (dict.writableType !== undefined) throw new RangeError("Invalid writableType specified");
      const readableHWM = extractHighWaterMark(readableDict, 0);
      const readableSize = extractSizeAlgorithm(readableDict);
      const writableHWM = extractHighWaterMark(writableDict, 1);
      const writableSize = extractSizeAlgorithm(writableDict);
      const startPromise = newDeferred();
      const s = { obj: this, readable: null, writable: null, backpressure: undefined, backpressureChangePromise: undefined, controller: undefined };
      this.#s = s;
      initializeTransformStream(s, startPromise.promise, writableHWM, writableSize, readableHWM, readableSize);
      setUpTransformStreamDefaultControllerFromTransformer(s, transformer, dict);
      if (dict.start) resolveDeferred(startPromise, dict.start.call(transformer, s.controller.obj));
      else resolveDeferred(startPromise, undefined);
    }
    get readable() { return this.#s.readable.obj; }
    get writable() { return this.#s.writable.obj; }
    static { tsRecord = (x) => x.#s; }
  }
  function initializeTransformStream(stream, startPromise, writableHWM, writableSize, readableHWM, readableSize) {
    const start = () => startPromise;
    stream.writable = createWritableStream(start, (chunk) => transformStreamDefaultSinkWriteAlgorithm(stream, chunk),
      () => transformStreamDefaultSinkCloseAlgorithm(stream), (reason) => transformStreamDefaultSinkAbortAlgorithm(stream, reason), writableHWM, writableSize);
    stream.readable = createReadableStream(start, () => transformStreamDefaultSourcePullAlgorithm(stream),
      (reason) => transformStreamDefaultSourceCancelAlgorithm(stream, reason), readableHWM, readableSize);
    stream.backpressure = undefined;
    stream.backpressureChangePromise = undefined;
    transformStreamSetBackpressure(stream, true);
    stream.controller = undefined;
  }
  function transformStreamError(stream, e) {
    readableStreamDefaultControllerError(stream.readable.controller, e);
    transformStreamErrorWritableAndUnblockWrite(stream, e);
  }
  function transformStreamErrorWritableAndUnblockWrite(stream, e) {
    transformStreamDefaultControllerClearAlgorithms(stream.controller);
    writableStreamDefaultControllerErrorIfNeeded(stream.writable.controller, e);
    transformStreamUnblockWrite(stream);
  }
  function transformStreamUnblockWrite(stream) { if (stream.backpressure) transformStreamSetBackpressure(stream, false); }
  function transformStreamSetBackpressure(stream, backpressure) {
    if (stream.backpressureChangePromise !== undefined) resolveDeferred(stream.backpressureChangePromise, undefined);
    stream.backpressureChangePromise = newDeferred();
    stream.backpressure = backpressure;
  }
  class TransformStreamDefaultController {
    #s;
    constructor(guard = undefined, record = undefined) {
      if (guard !== INTERNAL) throw new TypeError("Illegal constructor");
      this.#s = record; record.obj = this;
    }
    get desiredSize() { return readableStreamDefaultControllerGetDesiredSize(this.#s.stream.readable.controller); }
    enqueue(chunk = undefined) { transformStreamDefaultControllerEnqueue(this.#s, chunk); }
    error(reason = undefined) { transformStreamError(this.#s.stream, reason); }
    terminate() { transformStreamDefaultControllerTerminate(this.#s); }
    static { tsControllerRecord = (x) => x.#s; }
  }
  function setUpTransformStreamDefaultControllerFromTransformer(stream, transformer, dict) {
    const c = { obj: null, stream, transform: undefined, flush: undefined, cancel: undefined, finishPromise: undefined };
    new TransformStreamDefaultController(INTERNAL, c);
    c.transform = dict.transform ? (chunk) => promiseCall(dict.transform, transformer, [chunk, c.obj]) : (chunk) => {
      try { transformStreamDefaultControllerEnqueue(c, chunk); return resolvedWith(undefined); } catch (e) { return rejectedWith(e); }
    };
    c.flush = dict.flush ? () => promiseCall(dict.flush, transformer, [c.obj]) : () => resolvedWith(undefined);
    c.cancel = dict.cancel ? (reason) => promiseCall(dict.cancel, transformer, [reason]) : () => resolvedWith(undefined);
    stream.controller = c;
  }
  function transformStreamDefaultControllerClearAlgorithms(c) { c.transform = c.flush = c.cancel = undefined; }
  function transformStreamDefaultControllerEnqueue(c, chunk) {
    const stream = c.stream;
    const readableController = stream.readable.controller;
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(readableController)) throw new TypeError("Readable side is not in a state that permits enqueue");
    try { readableStreamDefaultControllerEnqueue(readableController, chunk); } catch (e) {
      transformStreamErrorWritableAndUnblockWrite(stream, e);
      throw stream.readable.storedError;
    }
    const backpressure = readableStreamDefaultControllerHasBackpressure(readableController);
    if (backpressure !== stream.backpressure) transformStreamSetBackpressure(stream, true);
  }
  function transformStreamDefaultControllerPerformTransform(c, chunk) {
    return upon(c.transform(chunk), undefined, (r) => { transformStreamError(c.stream, r); throw r; });
  }
  function transformStreamDefaultControllerTerminate(c) {
    const stream = c.stream;
    readableStreamDefaultControllerClose(stream.readable.controller);
    transformStreamErrorWritableAndUnblockWrite(stream, new TypeError("TransformStream terminated"));
  }
  function transformStreamDefaultSinkWriteAlgorithm(stream, chunk) {
    const c = stream.controller;
    if (stream.backpressure) {
      return upon(stream.backpressureChangePromise.promise, () => {
        const writable = stream.writable;
        if (writable.state === "erroring") throw writable.storedError;
        return transformStreamDefaultControllerPerformTransform(c, chunk);
      });
    }
    return transformStreamDefaultControllerPerformTransform(c, chunk);
  }
  function transformStreamDefaultSinkAbortAlgorithm(stream, reason) {
    const c = stream.controller;
    if (c.finishPromise !== undefined) return c.finishPromise.promise;
    const readable = stream.readable;
    c.finishPromise = newDeferred();
    const cancelPromise = c.cancel(reason);
    transformStreamDefaultControllerClearAlgorithms(c);
    upon(cancelPromise, () => {
      if (readable.state === "errored") rejectDeferred(c.finishPromise, readable.storedError);
      else { readableStreamDefaultControllerError(readable.controller, reason); resolveDeferred(c.finishPromise, undefined); }
    }, (r) => {
      readableStreamDefaultControllerError(readable.controller, r);
      rejectDeferred(c.finishPromise, r);
    });
    return c.finishPromise.promise;
  }
  function transformStreamDefaultSinkCloseAlgorithm(stream) {
    const c = stream.controller;
    if (c.finishPromise !== undefined) return c.finishPromise.promise;
    const readable = stream.readable;
    c.finishPromise = newDeferred();
    const flushPromise = c.flush();
    transformStreamDefaultControllerClearAlgorithms(c);
    upon(flushPromise, () => {
      if (readable.state === "errored") rejectDeferred(c.finishPromise, readable.storedError);
      else { readableStreamDefaultControllerClose(readable.controller); resolveDeferred(c.finishPromise, undefined); }
    }, (r) => {
      readableStreamDefaultControllerError(readable.controller, r);
      rejectDeferred(c.finishPromise, r);
    });
    return c.finishPromise.promise;
  }
  function transformStreamDefaultSourcePullAlgorithm(stream) {
    transformStreamSetBackpressure(stream, false);
    return stream.backpressureChangePromise.promise;
  }
  function transformStreamDefaultSourceCancelAlgorithm(stream, reason) {
    const c = stream.controller;
    if (c.finishPromise !== undefined) return c.finishPromise.promise;
    const writable = stream.writable;
    c.finishPromise = newDeferred();
    const cancelPromise = c.cancel(reason);
    transformStreamDefaultControllerClearAlgorithms(c);
    upon(cancelPromise, () => {
      if (writable.state === "errored") rejectDeferred(c.finishPromise, writable.storedError);
      else {
        writableStreamDefaultControllerErrorIfNeeded(writable.controller, reason);
        transformStreamUnblockWrite(stream);
        resolveDeferred(c.finishPromise, undefined);
      }
    }, (r) => {
      writableStreamDefaultControllerErrorIfNeeded(writable.controller, r);
      transformStreamUnblockWrite(stream);
      rejectDeferred(c.finishPromise, r);
    });
    return c.finishPromise.promise;
  }

  // ---- queuing strategies ----

  function strategyInit(init, what) {
    if (init === undefined || init === null || !isObjectValue(init)) throw new TypeError(what + ": an init dictionary with highWaterMark is required");
    const hwm = init.highWaterMark;
    if (hwm === undefined) throw new TypeError(what + ": highWaterMark is required");
    return Number(hwm);
  }
  const byteLengthSize = { size(chunk) { return chunk.byteLength; } }.size;
  const countSize = { size() { return 1; } }.size;
  class ByteLengthQueuingStrategy {
    #highWaterMark;
    constructor(init) { this.#highWaterMark = strategyInit(init, "ByteLengthQueuingStrategy"); }
    get highWaterMark() { return this.#highWaterMark; }
    get size() { this.#highWaterMark; return byteLengthSize; }
  }
  class CountQueuingStrategy {
    #highWaterMark;
    constructor(init) { this.#highWaterMark = strategyInit(init, "CountQueuingStrategy"); }
    get highWaterMark() { return this.#highWaterMark; }
    get size() { this.#highWaterMark; return countSize; }
  }

  // A byte stream that hands out `bytes` (copied) in 64 KiB chunks: a body's stream.
  function readableStreamFromBytes(bytes) {
    let offset = 0;
    const stream = createReadableByteStream(doNothing, () => {
      const c = stream.controller;
      if (offset >= bytes.length) {
        readableByteStreamControllerClose(c);
        if (c.pendingPullIntos.length > 0) readableByteStreamControllerRespond(c, 0);
        return resolvedWith(undefined);
      }
      const end = Math.min(offset + 65536, bytes.length);
      readableByteStreamControllerEnqueue(c, bytes.slice(offset, end));
      offset = end;
      return resolvedWith(undefined);
    }, () => resolvedWith(undefined));
    return stream;
  }
  // Fetch's "fully read" of a body stream: every chunk must be a Uint8Array.
  function readAllBytes(stream) {
    const reader = acquireDefaultReader(stream);
    const chunks = [];
    let total = 0;
    return new OriginalPromise((resolve, reject) => {
      const step = () => readableStreamDefaultReaderRead(reader, {
        chunk: (chunk) => {
          if (!(chunk instanceof Uint8Array)) {
            const e = new TypeError("The body stream yielded a chunk that is not a Uint8Array");
            readableStreamReaderGenericCancel(reader, e);
            reject(e);
            return;
          }
          chunks.push(chunk);
          total += chunk.length;
          step();
        },
        close: () => resolve(concatBytes(chunks.length ? chunks : [new Uint8Array(0)], total)),
        error: reject,
      });
      step();
    });
  }
  // A body's stream errored (an aborted fetch) or closed and used up (a consumed body)
  function errorStream(stream, reason) { readableByteStreamControllerError(stream.controller, reason); }
  function closeUsedStream(stream) { readableByteStreamControllerClose(stream.controller); stream.disturbed = true; }

  const classes = [ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamDefaultController,
    ReadableByteStreamController, ReadableStreamBYOBRequest, WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController,
    TransformStream, TransformStreamDefaultController, ByteLengthQueuingStrategy, CountQueuingStrategy];
  const exports = { rsRecord, tsRecord, isReadableStream, readableStreamFromBytes, readAllBytes, readableStreamTee, readableStreamPipeTo,
    errorStream, closeUsedStream };
  for (const cls of classes) exports[webidlInterface(cls).name] = cls;
  promiseReturning(ReadableStream, ["cancel", "pipeTo"]);
  promiseReturning(ReadableStreamDefaultReader, ["closed", "cancel", "read"]);
  promiseReturning(ReadableStreamBYOBReader, ["closed", "cancel", "read"]);
  promiseReturning(WritableStream, ["abort", "close"]);
  promiseReturning(WritableStreamDefaultWriter, ["closed", "ready", "abort", "close", "write"]);
  promiseReturning(ReadableStreamAsyncIterator, ["next", "return"]);
  return exports;
})
@end*/
