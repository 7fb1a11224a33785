  // ---- encoding: TextEncoder, TextDecoder (the WHATWG Encoding standard) ----------
  // The decoders, the UTF-8 encoder and the label table are C (guest_sdk/js/encoding.c);
  // this part holds the WebIDL surface, BOM handling and the bytes a stream keeps
  // between chunks (a sequence cut at a chunk's end is decoded with the next one).

  // WebIDL: operations and attributes are enumerable; the class names itself in toString.
  function encodingWebIdl(cls, name) {
    const proto = cls.prototype;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === "constructor") continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      descriptor.enumerable = true;
      Object.defineProperty(proto, key, descriptor);
    }
    Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
  }

  // WebIDL dictionary conversion: undefined and null are empty, other primitives a TypeError
  function encodingOptions(value, what) {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" && typeof value !== "function") throw new TypeError(what + " is not an object");
    return value;
  }

  const ENCODING_UTF8_ID = 0;
  const ENCODING_UTF16BE_ID = native.encodingId("utf-16be");
  const ENCODING_UTF16LE_ID = native.encodingId("utf-16le");
  const ENCODING_REPLACEMENT_ID = native.encodingId("replacement");
  const ENCODING_NO_BYTES = new Uint8Array(0);

  // AllowSharedBufferSource -> Uint8Array (a view, no copy)
  function encodingInput(input) {
    if (input instanceof Uint8Array) return input;
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && input instanceof SharedArrayBuffer)) return new Uint8Array(input);
    throw new TypeError("The provided value is not of type '(ArrayBuffer or ArrayBufferView)'");
  }

  function encodingConcat(a, b) {
    const out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }

  // The decoding state shared by TextDecoder and TextDecoderStream.
  class TextDecoderCore {
    constructor(id, fatal, ignoreBOM) {
      this.id = id;
      this.fatal = fatal;
      this.ignoreBOM = ignoreBOM;
      this.io = new Int32Array(2); // [iso-2022-jp state, bytes used]
      this.reset();
    }
    reset() {
      this.pending = null; // the unfinished sequence at the end of the last chunk
      this.io[0] = 0;
      this.bomSeen = false;
    }
    // bytes: Uint8Array; stream: more input follows
    decode(bytes, stream) {
      if (this.pending !== null) { bytes = encodingConcat(this.pending, bytes); this.pending = null; }
      let text;
      try {
        text = native.textDecode(this.id, bytes, stream, this.fatal, this.io);
      } catch (e) {
        this.reset();
        throw e;
      }
      const used = this.io[1];
      if (used < bytes.length) this.pending = bytes.slice(used);
      if (!this.ignoreBOM && !this.bomSeen && text.length > 0 && (this.id === ENCODING_UTF8_ID || this.id === ENCODING_UTF16LE_ID || this.id === ENCODING_UTF16BE_ID)) {
        this.bomSeen = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      } else if (text.length > 0) {
        this.bomSeen = true;
      }
      if (!stream) this.reset();
      return text;
    }
  }

  function textDecoderFor(label, options, what) {
    const id = native.encodingId(String(label));
    if (id < 0 || id === ENCODING_REPLACEMENT_ID) throw new RangeError(what + ": the encoding label provided ('" + label + "') is invalid.");
    const fatal = !!options.fatal;
    const ignoreBOM = !!options.ignoreBOM;
    return new TextDecoderCore(id, fatal, ignoreBOM);
  }

  class TextDecoder {
    #decoder;
    #doNotFlush = false;
    constructor(label = "utf-8", options = undefined) {
      this.#decoder = textDecoderFor(label, encodingOptions(options, "TextDecoder options"), "TextDecoder");
    }
    get encoding() { return native.encodingName(this.#decoder.id); }
    get fatal() { return this.#decoder.fatal; }
    get ignoreBOM() { return this.#decoder.ignoreBOM; }
    decode(input = undefined, options = undefined) {
      const decoder = this.#decoder;
      const stream = !!encodingOptions(options, "TextDecoder.decode options").stream;
      const bytes = input === undefined ? ENCODING_NO_BYTES : encodingInput(input);
      if (!this.#doNotFlush) decoder.reset();
      this.#doNotFlush = stream;
      return decoder.decode(bytes, stream);
    }
  }
  encodingWebIdl(TextDecoder, "TextDecoder");

  class TextEncoder {
    #brand = true; // reading it from another object throws: WebIDL's "Illegal invocation"
    get encoding() { this.#brand; return "utf-8"; }
    encode(input = "") {
      this.#brand;
      return native.utf8Encode(String(input));
    }
    encodeInto(source, destination) {
      this.#brand;
      if (arguments.length < 2) throw new TypeError("TextEncoder.encodeInto: 2 arguments required");
      source = String(source);
      if (!(destination instanceof Uint8Array)) throw new TypeError("TextEncoder.encodeInto: destination is not a Uint8Array");
      return native.encodeInto(source, destination);
    }
  }
  encodingWebIdl(TextEncoder, "TextEncoder");

  define("TextEncoder", TextEncoder);
  define("TextDecoder", TextDecoder);

  function toBytes(value) {
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return native.utf8Encode(String(value));
  }
