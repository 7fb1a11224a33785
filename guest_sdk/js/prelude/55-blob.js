  // ---- Blob, File, FormData (File API; XHR's FormData; HTML's multipart/form-data) ----
  // A Blob's bytes never change, so slices share them; every read copies.
  // A lazy module (35-webidl.js).

  const blobModule = lazyModule("blob", () => ({
    native, INTERNAL, isObjectValue, dictionaryOf, toUSVString, bufferSourceBytes, concatBytes, utf8DecodeWithoutBOM, resolvedWith,
    webidlInterface, definePairIterator, promiseReturning, streamsModule,
  }));
  lazyGlobals(["Blob", "File", "FormData"], blobModule);
  // a Blob or a FormData exists only once the module is loaded
  function isBlobValue(value) { return blobModule.loaded() && blobModule().isBlob(value); }
  function isFormDataValue(value) { return blobModule.loaded() && blobModule().isFormData(value); }

/*@lazy blob
(function (prelude) {
  "use strict";
  const { native, INTERNAL, isObjectValue, dictionaryOf, toUSVString, bufferSourceBytes, concatBytes, utf8DecodeWithoutBOM, resolvedWith,
    webidlInterface, definePairIterator, promiseReturning, streamsModule } = prelude;

  function normalizeBlobType(type) {
    type = String(type);
    return /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : "";
  }

  let blobRecord; // (blob) -> {bytes, type}
  function newBlob(bytes, type) { return new Blob(INTERNAL, { bytes, type }); }
  function cloneBlob(blob) {
    const r = blobRecord(blob);
    if (blob instanceof File) return new File(INTERNAL, { bytes: r.bytes, type: r.type }, fileRecord(blob));
    return newBlob(r.bytes, r.type);
  }
  function blobBytes(blob) { return blobRecord(blob).bytes; }

  class Blob {
    #s;
    constructor(blobParts = undefined, options = undefined) {
      if (blobParts === INTERNAL) { this.#s = options; return; }
      const parts = [];
      if (blobParts !== undefined) {
        if (!isObjectValue(blobParts) || typeof blobParts[Symbol.iterator] !== "function") throw new TypeError("Blob: blobParts must be a sequence");
        for (const part of blobParts) parts.push(part);
      }
      const dict = dictionaryOf(options, "BlobPropertyBag");
      const endings = dict.endings === undefined ? "transparent" : String(dict.endings);
      if (endings !== "transparent" && endings !== "native") throw new TypeError("Blob: invalid endings " + endings);
      const type = dict.type === undefined ? "" : normalizeBlobType(dict.type);
      const chunks = [];
      let total = 0;
      for (const part of parts) {
        let bytes;
        if (part instanceof ArrayBuffer || ArrayBuffer.isView(part)) bytes = bufferSourceBytes(part).slice();
        else if (part instanceof Blob) bytes = blobRecord(part).bytes;
        else {
          let s = toUSVString(part);
          if (endings === "native") s = s.replace(/\r\n|\r/g, "\n");
          bytes = native.utf8Encode(s);
        }
        chunks.push(bytes);
        total += bytes.length;
      }
      this.#s = { bytes: concatBytes(chunks, total), type };
    }
    get size() { return this.#s.bytes.length; }
    get type() { return this.#s.type; }
    slice(start = undefined, end = undefined, contentType = undefined) {
      const bytes = this.#s.bytes;
      const size = bytes.length;
      const clamp = (value, fallback) => {
        if (value === undefined) return fallback;
        const n = Math.trunc(Number(value)) || 0;
        return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
      };
      const from = clamp(start, 0);
      const to = clamp(end, size);
      const type = contentType === undefined ? "" : normalizeBlobType(contentType);
      return newBlob(bytes.subarray(from, Math.max(to, from)), type);
    }
    stream() { return streamsModule().readableStreamFromBytes(this.#s.bytes).obj; }
    text() { return resolvedWith(utf8DecodeWithoutBOM(this.#s.bytes)); }
    arrayBuffer() { const b = this.#s.bytes; return resolvedWith(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); }
    bytes() { return resolvedWith(this.#s.bytes.slice()); }
    static { blobRecord = (x) => x.#s; }
  }

  let fileRecord; // (file) -> {name, lastModified}
  class File extends Blob {
    #f;
    constructor(fileBits, fileName, options = undefined) {
      if (fileBits === INTERNAL) { super(INTERNAL, fileName); this.#f = options; return; }
      if (arguments.length < 2) throw new TypeError("Failed to construct 'File': 2 arguments required");
      super(fileBits, options);
      const dict = dictionaryOf(options, "FilePropertyBag");
      const name = toUSVString(fileName);
      const lastModified = dict.lastModified === undefined ? Date.now() : Number(BigInt.asIntN(64, BigInt(Math.trunc(Number(dict.lastModified)) || 0)));
      this.#f = { name, lastModified };
    }
    get name() { return this.#f.name; }
    get lastModified() { return this.#f.lastModified; }
    static { fileRecord = (x) => x.#f; }
  }

  // ---- FormData ----

  let formDataRecord; // (formData) -> entry list [[name, string | File]]
  function formDataEntryValue(value, filename) {
    if (!(value instanceof Blob)) return toUSVString(value);
    if (value instanceof File && filename === undefined) return value;
    const name = filename !== undefined ? toUSVString(filename) : value instanceof File ? value.name : "blob";
    const r = blobRecord(value);
    return new File(INTERNAL, { bytes: r.bytes, type: r.type }, { name, lastModified: value instanceof File ? value.lastModified : Date.now() });
  }
  class FormData {
    #entries = [];
    constructor(form = undefined, submitter = undefined) {
      if (form !== undefined) throw new TypeError("FormData: there are no HTML forms in wasmtask");
    }
    append(name, value, filename = undefined) {
      if (arguments.length < 2) throw new TypeError("FormData.append: 2 arguments required");
      if (arguments.length > 2 && !(value instanceof Blob)) throw new TypeError("FormData.append: parameter 2 is not of type 'Blob'");
      this.#entries.push([toUSVString(name), formDataEntryValue(value, filename)]);
    }
    delete(name) { name = toUSVString(name); this.#entries = this.#entries.filter((e) => e[0] !== name); }
    get(name) { name = toUSVString(name); const e = this.#entries.find((x) => x[0] === name); return e ? e[1] : null; }
    getAll(name) { name = toUSVString(name); return this.#entries.filter((e) => e[0] === name).map((e) => e[1]); }
    has(name) { name = toUSVString(name); return this.#entries.some((e) => e[0] === name); }
    set(name, value, filename = undefined) {
      if (arguments.length < 2) throw new TypeError("FormData.set: 2 arguments required");
      if (arguments.length > 2 && !(value instanceof Blob)) throw new TypeError("FormData.set: parameter 2 is not of type 'Blob'");
      name = toUSVString(name);
      const entry = [name, formDataEntryValue(value, filename)];
      const i = this.#entries.findIndex((e) => e[0] === name);
      if (i < 0) this.#entries.push(entry);
      else this.#entries = this.#entries.filter((e, j) => j === i || e[0] !== name).map((e) => (e[0] === name ? entry : e));
    }
    forEach(callback, thisArg = undefined) {
      if (typeof callback !== "function") throw new TypeError("FormData.forEach: the callback is not a function");
      for (let i = 0; i < this.#entries.length; i++) { const e = this.#entries[i]; callback.call(thisArg, e[1], e[0], this); }
    }
    static { formDataRecord = (x) => x.#entries; }
  }
  definePairIterator(FormData, "FormData", (x) => formDataRecord(x));

  // multipart/form-data (HTML 4.10.21.8): the encoding and, for Body.formData(), the parsing
  function newlinesToCRLF(s) { return s.replace(/\r\n|\r|\n/g, "\r\n"); }
  function escapeMultipartName(s) { return s.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22"); }
  function multipartBoundary() {
    let random;
    try { random = Array.from(native.randomFill(new Uint8Array(12), "FormData"), (b) => b.toString(16).padStart(2, "0")).join(""); }
    catch (e) { random = (++formBoundaryCounter).toString(16).padStart(24, "0"); }
    return "----WasmtaskFormBoundary" + random;
  }
  let formBoundaryCounter = 0;
  function serializeMultipart(entries, boundary) {
    const chunks = [];
    let total = 0;
    const push = (bytes) => { chunks.push(bytes); total += bytes.length; };
    for (const [name, value] of entries) {
      let head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + escapeMultipartName(newlinesToCRLF(name)) + "\"";
      if (typeof value === "string") {
        push(native.utf8Encode(head + "\r\n\r\n" + newlinesToCRLF(value) + "\r\n"));
      } else {
        head += "; filename=\"" + escapeMultipartName(value.name) + "\"\r\nContent-Type: " + (value.type || "application/octet-stream") + "\r\n\r\n";
        push(native.utf8Encode(head));
        push(blobRecord(value).bytes);
        push(native.utf8Encode("\r\n"));
      }
    }
    push(native.utf8Encode("--" + boundary + "--\r\n"));
    return concatBytes(chunks, total);
  }
  function indexOfBytes(haystack, needle, from) {
    const first = needle[0];
    outer: for (let i = haystack.indexOf(first, from); i >= 0 && i + needle.length <= haystack.length; i = haystack.indexOf(first, i + 1)) {
      for (let k = 1; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
      return i;
    }
    return -1;
  }
  function parseMultipart(bytes, boundary) {
    const fail = () => { throw new TypeError("Failed to parse the body as multipart/form-data"); };
    const delimiter = native.utf8Encode("--" + boundary);
    const form = new FormData();
    let at = indexOfBytes(bytes, delimiter, 0);
    if (at !== 0) fail();
    at += delimiter.length;
    for (;;) {
      if (bytes[at] === 0x2d && bytes[at + 1] === 0x2d) return form; // "--": the end
      if (bytes[at] !== 0x0d || bytes[at + 1] !== 0x0a) fail();
      at += 2;
      const headerEnd = indexOfBytes(bytes, [0x0d, 0x0a, 0x0d, 0x0a], at);
      if (headerEnd < 0) fail();
      const headerText = native.utf8Decode(bytes.subarray(at, headerEnd), false);
      let name = null, filename = null, contentType = "text/plain";
      for (const line of headerText.split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon < 0) fail();
        const headerName = line.slice(0, colon).trim().toLowerCase();
        const headerValue = line.slice(colon + 1).trim();
        if (headerName === "content-disposition") {
          if (!/^form-data\s*(;|$)/i.test(headerValue)) fail();
          const nameMatch = /;\s*name="((?:[^"\\]|\\.)*)"/i.exec(headerValue) || /;\s*name=([^;\s]+)/i.exec(headerValue);
          const fileMatch = /;\s*filename="((?:[^"\\]|\\.)*)"/i.exec(headerValue) || /;\s*filename=([^;\s]+)/i.exec(headerValue);
          if (nameMatch) name = nameMatch[1].replace(/%0A/gi, "\n").replace(/%0D/gi, "\r").replace(/%22/g, "\"");
          if (fileMatch) filename = fileMatch[1].replace(/%0A/gi, "\n").replace(/%0D/gi, "\r").replace(/%22/g, "\"");
        } else if (headerName === "content-type") {
          contentType = headerValue;
        }
      }
      if (name === null) fail();
      const bodyStart = headerEnd + 4;
      const next = indexOfBytes(bytes, delimiter, bodyStart);
      if (next < 2 || bytes[next - 2] !== 0x0d || bytes[next - 1] !== 0x0a) fail();
      const body = bytes.subarray(bodyStart, next - 2);
      if (filename !== null) form.append(name, new File(INTERNAL, { bytes: body.slice(), type: normalizeBlobType(contentType) }, { name: filename, lastModified: Date.now() }));
      else form.append(name, native.utf8Decode(body, false));
      at = next + delimiter.length;
    }
  }

  const isBlob = (value) => { try { blobRecord(value); return true; } catch (e) { return false; } };
  const isFormData = (value) => { try { formDataRecord(value); return true; } catch (e) { return false; } };
  for (const cls of [Blob, File, FormData]) webidlInterface(cls);
  promiseReturning(Blob, ["text", "arrayBuffer", "bytes"]);
  return { Blob, File, FormData, isBlob, isFormData, blobRecord, newBlob, cloneBlob, formDataRecord, serializeMultipart, multipartBoundary,
    parseMultipart, normalizeBlobType };
})
@end*/
