  // ---- encoding streams: TextDecoderStream, TextEncoderStream ------------------------
  // TransformStreams (65-streams.js) over the decoders of 20-encoding.js.

  class TextDecoderStream {
    #decoder;
    #transform;
    constructor(label = "utf-8", options = undefined) {
      const decoder = textDecoderFor(label, encodingOptions(options, "TextDecoderStream options"), "TextDecoderStream");
      this.#decoder = decoder;
      this.#transform = new g.TransformStream({
        transform(chunk, controller) {
          const text = decoder.decode(encodingInput(chunk), true);
          if (text.length > 0) controller.enqueue(text);
        },
        flush(controller) {
          const text = decoder.decode(ENCODING_NO_BYTES, false);
          if (text.length > 0) controller.enqueue(text);
        },
      });
    }
    get encoding() { return native.encodingName(this.#decoder.id); }
    get fatal() { return this.#decoder.fatal; }
    get ignoreBOM() { return this.#decoder.ignoreBOM; }
    get readable() { return this.#transform.readable; }
    get writable() { return this.#transform.writable; }
  }
  encodingWebIdl(TextDecoderStream, "TextDecoderStream");

  class TextEncoderStream {
    #transform;
    constructor() {
      let highSurrogate = ""; // a chunk's last code unit, when it may pair with the next chunk's first
      this.#transform = new g.TransformStream({
        transform(chunk, controller) {
          let text = highSurrogate + String(chunk);
          highSurrogate = "";
          const last = text.charCodeAt(text.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) {
            highSurrogate = text[text.length - 1];
            text = text.slice(0, -1);
          }
          if (text.length > 0) controller.enqueue(native.utf8Encode(text));
        },
        flush(controller) {
          if (highSurrogate) controller.enqueue(new Uint8Array([0xef, 0xbf, 0xbd]));
        },
      });
    }
    get encoding() { this.#transform; return "utf-8"; }
    get readable() { return this.#transform.readable; }
    get writable() { return this.#transform.writable; }
  }
  encodingWebIdl(TextEncoderStream, "TextEncoderStream");

  if (typeof g.TransformStream === "function") {
    define("TextDecoderStream", TextDecoderStream);
    define("TextEncoderStream", TextEncoderStream);
  }
