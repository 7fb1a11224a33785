  // ---- crypto ---------------------------------------------------------------

  // native.randomFill throws while the user's top-level code runs (shim.c,
  // in_global_scope): a value drawn then would be frozen into the snapshot.
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const cryptoObject = {
    getRandomValues(array) {
      if (!INTEGER_ARRAYS.some((T) => array instanceof T)) throw new TypeError("getRandomValues: expected an integer TypedArray");
      if (array.byteLength > 65536) throw new DOMException("getRandomValues: at most 65536 bytes", "QuotaExceededError");
      return native.randomFill(array, "crypto.getRandomValues()");
    },
    randomUUID() {
      const b = native.randomFill(new Uint8Array(16), "crypto.randomUUID()");
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    },
  };
  define("crypto", cryptoObject);

  // ---- crypto.subtle --------------------------------------------------------------
  // WebCrypto (w3c.github.io/webcrypto) as WPT tests it. Here: WebIDL conversion,
  // algorithm normalization, the usage, key-type and JWK checks, in the spec's order.
  // On the host (native.crypto -> isolates/capabilities/crypto.py -> host_api/crypto.py):
  // the key material, in a table of handles that lives as long as the call, and the work,
  // priced in the call's fuel. Operations run synchronously; their promises settle as
  // the microtasks drain. A key made by top-level code (the deploy's snapshot) keeps a
  // recipe (its own bytes) and is re-created on the host at its first use in a call.
  // (A block: its names stay out of the other prelude parts' scope.)
  {

  const KEY_USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
  const KEY_FORMATS = ["raw", "spki", "pkcs8", "jwk"];
  const HASH_BLOCK_BITS = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };
  const HASH_SUFFIX = { "SHA-1": "1", "SHA-256": "256", "SHA-384": "384", "SHA-512": "512" };
  const CURVES = ["P-256", "P-384", "P-521"];
  const EC_JWK_ALG = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };
  const AES_LENGTHS = [128, 192, 256];

  const cryptoFailure = (name) => (message) => new DOMException(message, name);
  const notSupported = cryptoFailure("NotSupportedError");
  const syntaxError = cryptoFailure("SyntaxError");
  const invalidAccess = cryptoFailure("InvalidAccessError");
  const dataError = cryptoFailure("DataError");
  const operationError = cryptoFailure("OperationError");

  // -- WebIDL conversions --
  const isObject = (v) => (typeof v === "object" && v !== null) || typeof v === "function";
  function idlString(value, what) {
    if (typeof value === "symbol") throw new TypeError(what + " cannot be a symbol");
    return String(value);
  }
  function idlEnforceRange(value, bits, what) {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new TypeError(what + " must be a finite number");
    const t = Math.trunc(n);
    if (t < 0 || t > 2 ** bits - 1) throw new TypeError(what + " is out of range");
    return t + 0;
  }
  function idlBytes(value, what) { // BufferSource -> a Uint8Array over the same bytes (the host copies them at once)
    if (value instanceof ArrayBuffer) return value.detached ? new Uint8Array(0) : new Uint8Array(value);
    if (ArrayBuffer.isView(value) && !(typeof SharedArrayBuffer === "function" && value.buffer instanceof SharedArrayBuffer)) {
      return value.buffer.detached ? new Uint8Array(0) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    }
    throw new TypeError(what + " is not an ArrayBuffer or ArrayBufferView");
  }
  function idlEnum(value, allowed, what) {
    const s = idlString(value, what);
    if (!allowed.includes(s)) throw new TypeError("'" + s + "' is not a valid " + what);
    return s;
  }
  function idlSequence(value, convert, what) {
    if (!isObject(value) || typeof value[Symbol.iterator] !== "function") throw new TypeError(what + " is not a sequence");
    return Array.from(value, convert);
  }
  const idlUsages = (value) => idlSequence(value, (u) => idlEnum(u, KEY_USAGES, "KeyUsage"), "keyUsages");
  const idlAlgorithmIdentifier = (value) => (isObject(value) ? value : idlString(value, "algorithm"));
  function idlKey(value, what) {
    const slots = keySlots(value);
    if (!slots) throw new TypeError(what + " is not a CryptoKey");
    return slots;
  }
  function idlJsonWebKey(value) {
    if (value !== undefined && value !== null && !isObject(value)) throw new TypeError("keyData is not a JsonWebKey");
    const jwk = {};
    if (value === undefined || value === null) return jwk;
    for (const member of ["alg", "crv", "d", "dp", "dq", "e", "ext", "k", "key_ops", "kty", "n", "oth", "p", "q", "qi", "use", "x", "y"]) {
      const v = value[member];
      if (v === undefined) continue;
      if (member === "ext") jwk.ext = !!v;
      else if (member === "key_ops") jwk.key_ops = idlSequence(v, (s) => idlString(s, "key_ops"), "key_ops");
      else if (member === "oth") jwk.oth = idlSequence(v, (o) => o, "oth");
      else jwk[member] = idlString(v, member);
    }
    return jwk;
  }

  // -- algorithm normalization (the spec's supportedAlgorithms and their dictionaries) --
  // member: [name, kind, required]; kinds: bytes, octet, ushort, ulong, hash, string, key, bigint.
  // Members are listed as WebIDL converts them: inherited first, then in lexicographic order.
  const DICTIONARIES = {
    Algorithm: [],
    AesCbcParams: [["iv", "bytes", true]],
    AesCtrParams: [["counter", "bytes", true], ["length", "octet", true]],
    AesGcmParams: [["additionalData", "bytes"], ["iv", "bytes", true], ["tagLength", "octet"]],
    AesKeyGenParams: [["length", "ushort", true]],
    HmacImportParams: [["hash", "hash", true], ["length", "ulong"]],
    EcKeyParams: [["namedCurve", "string", true]],
    EcdsaParams: [["hash", "hash", true]],
    EcdhKeyDeriveParams: [["public", "key", true]],
    RsaHashedKeyGenParams: [["modulusLength", "ulong", true], ["publicExponent", "bigint", true], ["hash", "hash", true]],
    RsaHashedImportParams: [["hash", "hash", true]],
    RsaPssParams: [["saltLength", "ulong", true]],
    RsaOaepParams: [["label", "bytes"]],
    HkdfParams: [["hash", "hash", true], ["info", "bytes", true], ["salt", "bytes", true]],
    Pbkdf2Params: [["hash", "hash", true], ["iterations", "ulong", true], ["salt", "bytes", true]],
  };
  const RSA = ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
  const AES = ["AES-CTR", "AES-CBC", "AES-GCM", "AES-KW"];
  const AES_CIPHERS = { "AES-CTR": "AesCtrParams", "AES-CBC": "AesCbcParams", "AES-GCM": "AesGcmParams", "RSA-OAEP": "RsaOaepParams" };
  const SIGNERS = { "RSASSA-PKCS1-v1_5": "Algorithm", "RSA-PSS": "RsaPssParams", ECDSA: "EcdsaParams", HMAC: "Algorithm", Ed25519: "Algorithm" };
  const each = (names, dictionary) => Object.fromEntries(names.map((n) => [n, dictionary]));
  const SUPPORTED = {
    encrypt: AES_CIPHERS,
    decrypt: AES_CIPHERS,
    sign: SIGNERS,
    verify: SIGNERS,
    digest: each(["SHA-1", "SHA-256", "SHA-384", "SHA-512"], "Algorithm"),
    generateKey: { ...each(RSA, "RsaHashedKeyGenParams"), ECDSA: "EcKeyParams", ECDH: "EcKeyParams", ...each(AES, "AesKeyGenParams"), HMAC: "HmacImportParams", Ed25519: "Algorithm", X25519: "Algorithm" },
    deriveBits: { ECDH: "EcdhKeyDeriveParams", X25519: "EcdhKeyDeriveParams", HKDF: "HkdfParams", PBKDF2: "Pbkdf2Params" },
    importKey: { ...each(RSA, "RsaHashedImportParams"), ECDSA: "EcKeyParams", ECDH: "EcKeyParams", ...each(AES, "Algorithm"), HMAC: "HmacImportParams", HKDF: "Algorithm", PBKDF2: "Algorithm", Ed25519: "Algorithm", X25519: "Algorithm" },
    wrapKey: { "AES-KW": "Algorithm" },
    unwrapKey: { "AES-KW": "Algorithm" },
    "get key length": { ...each(AES, "AesKeyGenParams"), HMAC: "HmacImportParams", HKDF: "Algorithm", PBKDF2: "Algorithm" },
  };
  const EXPORTABLE = [...RSA, "ECDSA", "ECDH", ...AES, "HMAC", "Ed25519", "X25519"];
  const asciiLower = (s) => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
  const LOWERCASE_NAMES = {}; // op -> {ASCII-lowercased name: registered name}
  for (const op in SUPPORTED) {
    LOWERCASE_NAMES[op] = {};
    for (const name in SUPPORTED[op]) LOWERCASE_NAMES[op][asciiLower(name)] = name;
  }

  function normalize(op, algorithm) {
    const alg = isObject(algorithm) ? algorithm : { name: algorithm };
    const given = alg.name;
    if (given === undefined) throw new TypeError("Algorithm: name is required");
    const requested = asciiLower(idlString(given, "Algorithm name"));
    const registered = SUPPORTED[op];
    const name = Object.hasOwn(LOWERCASE_NAMES[op], requested) ? LOWERCASE_NAMES[op][requested] : undefined;
    if (name === undefined) throw notSupported("Unrecognized algorithm name '" + requested + "' for " + op);
    const normalized = { name };
    for (const [member, kind, required] of DICTIONARIES[registered[name]]) {
      const value = alg[member];
      if (value === undefined) {
        if (required) throw new TypeError(registered[name] + ": " + member + " is required");
        continue;
      }
      const what = registered[name] + "." + member;
      if (kind === "bytes") normalized[member] = idlBytes(value, what).slice();
      else if (kind === "octet") normalized[member] = idlEnforceRange(value, 8, what);
      else if (kind === "ushort") normalized[member] = idlEnforceRange(value, 16, what);
      else if (kind === "ulong") normalized[member] = idlEnforceRange(value, 32, what);
      else if (kind === "hash") normalized[member] = idlAlgorithmIdentifier(value);
      else if (kind === "string") normalized[member] = idlString(value, what);
      else if (kind === "key") normalized[member] = idlKey(value, what);
      else if (kind === "bigint") {
        if (!(value instanceof Uint8Array)) throw new TypeError(what + " is not a Uint8Array");
        normalized[member] = value.slice();
      }
    }
    if (normalized.hash !== undefined) normalized.hash = normalize("digest", normalized.hash);
    return normalized;
  }

  // -- the host --
  const EMPTY = new Uint8Array(0);
  function host(header, inputs = {}) {
    const names = [], views = [];
    for (const name in inputs) { // (a view whose buffer was detached meanwhile reads as empty)
      if (inputs[name] !== undefined) { names.push(name); views.push(inputs[name].byteLength ? inputs[name] : EMPTY); }
    }
    header.inputs = names;
    const answer = native.crypto(JSON.stringify(header), views);
    const head = JSON.parse(answer[0]);
    if (head.error) throw new DOMException(head.error.message, head.error.name);
    head.data = {};
    head.outputs.forEach((name, i) => { head.data[name] = answer[i + 1]; });
    return head;
  }
  // An operation on keys: a key from the snapshot (a recipe, no handle in this call) is re-created first.
  function withKeys(keys, operation) {
    try {
      return operation();
    } catch (e) {
      if (!(e instanceof DOMException) || e.name !== "KeyUnavailable") throw e;
    }
    for (const slots of keys) {
      if (!slots.recipe) throw operationError("this CryptoKey belongs to another call");
      const { format, algorithm, bytes } = slots.recipe;
      slots.handle = host({ op: "importKey", format, algorithm }, { keyData: bytes }).handle;
    }
    return operation();
  }
  function hostAlgorithm(algorithm) { // a key's or a normalized algorithm's scalar members, for the host
    const out = {};
    for (const member of ["name", "namedCurve", "length", "tagLength", "saltLength", "iterations", "modulusLength"]) {
      if (typeof algorithm[member] === "string" || typeof algorithm[member] === "number") out[member] = algorithm[member];
    }
    if (algorithm.hash) out.hash = algorithm.hash.name;
    return out;
  }
  // A new CryptoKey from the host's description of it.
  function newKey(info, data, prefix, algorithm, extractable, usages) {
    const slots = { type: info.type, extractable, algorithm, usages, handle: info.handle, recipe: null };
    if (info.recipe) slots.recipe = { format: info.recipe, algorithm: hostAlgorithm(algorithm), bytes: new Uint8Array(data[prefix + "recipe"]) };
    return new CryptoKey(KEY_TOKEN, slots);
  }
  function hostCreate(header, inputs) {
    header.recipe = native.inGlobalScope();
    return host(header, inputs);
  }

  // -- base64url (JWK) --
  const base64url = (buffer) => native.base64Encode(new Uint8Array(buffer)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  function fromBase64url(text, member) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw dataError("JWK member '" + member + "' is not base64url");
    return native.base64Decode(text);
  }

  // -- usages --
  const normalizeUsages = (usages) => KEY_USAGES.filter((u) => usages.includes(u));
  const intersect = (usages, allowed) => KEY_USAGES.filter((u) => usages.includes(u) && allowed.includes(u));
  function allowUsages(usages, allowed) {
    const bad = usages.find((u) => !allowed.includes(u));
    if (bad !== undefined) throw syntaxError("Cannot create a key with the usage '" + bad + "'");
  }
  function checkJwkUse(jwk, usages, expected, extractable) {
    if (usages.length > 0 && jwk.use !== undefined && jwk.use !== expected) throw dataError("JWK 'use' must be '" + expected + "'");
    if (jwk.key_ops !== undefined) {
      if (new Set(jwk.key_ops).size !== jwk.key_ops.length) throw dataError("JWK 'key_ops' has duplicates");
      const missing = usages.find((u) => !jwk.key_ops.includes(u));
      if (missing !== undefined) throw dataError("JWK 'key_ops' does not allow '" + missing + "'");
    }
    if (jwk.ext === false && extractable) throw dataError("JWK 'ext' is false but the key is to be extractable");
  }

  // -- import: the key's algorithm-specific steps --
  function importSecret(format, keyData, normalized, extractable, usages) {
    const name = normalized.name;
    let bytes;
    if (name === "HKDF" || name === "PBKDF2") {
      if (format !== "raw") throw notSupported(name + " keys import from raw bytes only");
      allowUsages(usages, ["deriveKey", "deriveBits"]);
      if (extractable) throw syntaxError(name + " keys cannot be extractable");
      bytes = keyData;
    } else {
      const hmac = name === "HMAC";
      allowUsages(usages, hmac ? ["sign", "verify"] : name === "AES-KW" ? ["wrapKey", "unwrapKey"] : ["encrypt", "decrypt", "wrapKey", "unwrapKey"]);
      if (format === "raw") bytes = keyData;
      else if (format === "jwk") {
        if (keyData.kty !== "oct") throw dataError("JWK 'kty' must be 'oct'");
        if (keyData.k === undefined) throw dataError("JWK 'k' is missing");
        bytes = fromBase64url(keyData.k, "k");
      } else throw notSupported(name + " keys do not import from " + format);
      if (!hmac && !AES_LENGTHS.includes(bytes.length * 8)) throw dataError("AES keys are 128, 192 or 256 bits, not " + bytes.length * 8);
      if (format === "jwk") {
        const expected = hmac ? "HS" + HASH_SUFFIX[normalized.hash.name] : "A" + bytes.length * 8 + name.slice(4);
        if (keyData.alg !== undefined && keyData.alg !== expected) throw dataError("JWK 'alg' must be '" + expected + "'");
        checkJwkUse(keyData, usages, hmac ? "sig" : "enc", extractable);
      }
    }
    let algorithm = { name };
    if (name === "HMAC") {
      let length = bytes.length * 8;
      if (length === 0) throw dataError("HMAC keys cannot be empty");
      if (normalized.length !== undefined) {
        if (normalized.length > length || normalized.length <= length - 8) throw dataError("HMAC key length " + normalized.length + " does not match " + length + " bits of key data");
        length = normalized.length;
      }
      algorithm = { name, length, hash: { name: normalized.hash.name } };
    } else if (name !== "HKDF" && name !== "PBKDF2") algorithm = { name, length: bytes.length * 8 };
    const info = hostCreate({ op: "importKey", format: "raw", algorithm: { name } }, { keyData: bytes });
    return newKey(info, info.data, "", algorithm, extractable, usages);
  }

  const PUBLIC_USAGES = { ECDSA: ["verify"], ECDH: [], Ed25519: ["verify"], X25519: [], "RSASSA-PKCS1-v1_5": ["verify"], "RSA-PSS": ["verify"], "RSA-OAEP": ["encrypt", "wrapKey"] };
  const PRIVATE_USAGES = { ECDSA: ["sign"], ECDH: ["deriveKey", "deriveBits"], Ed25519: ["sign"], X25519: ["deriveKey", "deriveBits"], "RSASSA-PKCS1-v1_5": ["sign"], "RSA-PSS": ["sign"], "RSA-OAEP": ["decrypt", "unwrapKey"] };
  const JWK_USE = { ECDSA: "sig", ECDH: "enc", Ed25519: "sig", X25519: "enc", "RSASSA-PKCS1-v1_5": "sig", "RSA-PSS": "sig", "RSA-OAEP": "enc" };
  function rsaJwkAlg(name, hash) {
    if (name === "RSA-OAEP") return hash === "SHA-1" ? "RSA-OAEP" : "RSA-OAEP-" + HASH_SUFFIX[hash];
    return (name === "RSA-PSS" ? "PS" : "RS") + HASH_SUFFIX[hash];
  }

  function importAsymmetric(format, keyData, normalized, extractable, usages) {
    const name = normalized.name;
    const ec = name === "ECDSA" || name === "ECDH";
    const okp = name === "Ed25519" || name === "X25519";
    const inputs = {};
    if (format === "spki" || format === "raw") {
      if (format === "raw" && !ec && !okp) throw notSupported(name + " keys do not import from raw");
      if (format === "raw" && ec && !CURVES.includes(normalized.namedCurve)) throw notSupported("unsupported curve " + normalized.namedCurve);
      allowUsages(usages, PUBLIC_USAGES[name]);
      inputs.keyData = keyData;
    } else if (format === "pkcs8") {
      allowUsages(usages, PRIVATE_USAGES[name]);
      inputs.keyData = keyData;
    } else {
      const jwk = keyData;
      allowUsages(usages, jwk.d !== undefined ? PRIVATE_USAGES[name] : PUBLIC_USAGES[name]);
      const kty = ec ? "EC" : okp ? "OKP" : "RSA";
      if (jwk.kty !== kty) throw dataError("JWK 'kty' must be '" + kty + "'");
      checkJwkUse(jwk, usages, JWK_USE[name], extractable);
      let fields;
      if (ec) {
        if (jwk.crv !== normalized.namedCurve) throw dataError("JWK 'crv' must be '" + normalized.namedCurve + "'");
        if (!CURVES.includes(jwk.crv)) throw notSupported("unsupported curve " + jwk.crv);
        if (name === "ECDSA" && jwk.alg !== undefined && EC_JWK_ALG[jwk.alg] !== jwk.crv) throw dataError("JWK 'alg' does not match the curve " + jwk.crv);
        fields = ["x", "y", "d"];
      } else if (okp) {
        if (jwk.crv !== name) throw dataError("JWK 'crv' must be '" + name + "'");
        if (name === "Ed25519" && jwk.alg !== undefined && jwk.alg !== "Ed25519" && jwk.alg !== "EdDSA") throw dataError("JWK 'alg' must be 'Ed25519' or 'EdDSA'");
        fields = ["x", "d"];
      } else {
        const expected = rsaJwkAlg(name, normalized.hash.name);
        if (jwk.alg !== undefined && jwk.alg !== expected) throw dataError("JWK 'alg' must be '" + expected + "'");
        if (jwk.oth !== undefined) throw notSupported("multi-prime RSA keys are not supported");
        fields = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
      }
      for (const field of fields) if (jwk[field] !== undefined) inputs[field] = fromBase64url(jwk[field], field);
      const required = ec ? ["x", "y"] : okp ? ["x"] : ["n", "e"];
      const missing = required.find((f) => inputs[f] === undefined);
      if (missing !== undefined) throw dataError("JWK '" + missing + "' is missing");
    }
    const info = hostCreate({ op: "importKey", format, algorithm: { name, namedCurve: normalized.namedCurve } }, inputs);
    const algorithm = keyAlgorithm(name, normalized, info, info.data, "");
    return newKey(info, info.data, "", algorithm, info.type === "public" ? true : extractable, usages);
  }
  function keyAlgorithm(name, normalized, info, data, prefix) {
    if (name === "ECDSA" || name === "ECDH") return { name, namedCurve: info.namedCurve };
    if (RSA.includes(name)) return { name, modulusLength: info.modulusLength, publicExponent: new Uint8Array(data[prefix + "publicExponent"]), hash: { name: normalized.hash.name } };
    return { name };
  }

  function importKeyNow(format, keyData, normalized, extractable, usages) {
    const name = normalized.name;
    const key = name === "HMAC" || AES.includes(name) || name === "HKDF" || name === "PBKDF2"
      ? importSecret(format, keyData, normalized, extractable, usages)
      : importAsymmetric(format, keyData, normalized, extractable, usages);
    const slots = keySlots(key);
    if ((slots.type === "secret" || slots.type === "private") && usages.length === 0) throw syntaxError("A " + slots.type + " key needs at least one usage");
    slots.extractable = extractable;
    slots.usages = normalizeUsages(usages);
    return key;
  }

  // -- export --
  function exportKeyNow(format, slots) {
    const name = slots.algorithm.name;
    if (!EXPORTABLE.includes(name)) throw notSupported(name + " keys cannot be exported");
    if (!slots.extractable) throw invalidAccess("The key is not extractable");
    const secret = slots.type === "secret";
    if (secret ? format !== "raw" && format !== "jwk" : format === "raw" && RSA.includes(name)) throw notSupported(name + " keys do not export as " + format);
    if ((format === "spki" || format === "raw") && !secret && slots.type !== "public") throw invalidAccess("Only a public key exports as " + format);
    if (format === "pkcs8" && slots.type !== "private") throw invalidAccess("Only a private key exports as pkcs8");
    const answer = withKeys([slots], () => host({ op: "exportKey", format: format === "jwk" ? "jwk" : format, handle: slots.handle }));
    if (format !== "jwk") return answer.data.keyData;
    const data = answer.data;
    const jwk = {};
    if (secret) {
      jwk.kty = "oct";
      jwk.k = base64url(data.k);
      jwk.alg = name === "HMAC" ? "HS" + HASH_SUFFIX[slots.algorithm.hash.name] : "A" + slots.algorithm.length + name.slice(4);
    } else if (name === "ECDSA" || name === "ECDH") {
      Object.assign(jwk, { kty: "EC", crv: slots.algorithm.namedCurve, x: base64url(data.x), y: base64url(data.y) });
      if (data.d) jwk.d = base64url(data.d);
    } else if (name === "Ed25519" || name === "X25519") {
      Object.assign(jwk, { kty: "OKP", crv: name, x: base64url(data.x) });
      if (data.d) jwk.d = base64url(data.d);
      if (name === "Ed25519") jwk.alg = "Ed25519";
    } else {
      Object.assign(jwk, { kty: "RSA", alg: rsaJwkAlg(name, slots.algorithm.hash.name), n: base64url(data.n), e: base64url(data.e) });
      for (const f of ["d", "p", "q", "dp", "dq", "qi"]) if (data[f]) jwk[f] = base64url(data[f]);
    }
    jwk.key_ops = slots.usages.slice();
    jwk.ext = slots.extractable;
    return jwk;
  }

  // -- generate --
  // The key's parameters are checked as the method is called (WPT's generateKey failures expect
  // these errors without a wait, the usage errors after one).
  function checkGenerateParameters(normalized) {
    const name = normalized.name;
    if (AES.includes(name) && !AES_LENGTHS.includes(normalized.length)) throw operationError("AES key length must be 128, 192 or 256 bits");
    if ((name === "ECDSA" || name === "ECDH") && !CURVES.includes(normalized.namedCurve)) throw notSupported("unsupported curve " + normalized.namedCurve);
    if (RSA.includes(name)) { // what the host generates (host_api/crypto.py)
      const exponent = normalized.publicExponent.reduce((value, byte) => value * 256 + byte, 0);
      if (normalized.modulusLength < 1024 || normalized.modulusLength > 4096 || normalized.modulusLength % 8 || (exponent !== 3 && exponent !== 65537)) {
        throw operationError("RSA keys are generated with a modulus of 1024 to 4096 bits and a public exponent of 3 or 65537");
      }
    }
  }
  function generateKeyNow(normalized, extractable, usages) {
    const name = normalized.name;
    if (native.inGlobalScope()) throw new Error("crypto.subtle.generateKey() cannot be called at the top level (global scope): its value would be frozen into the deployed snapshot and repeat on every request; call it inside the handler");
    if (AES.includes(name) || name === "HMAC") {
      allowUsages(usages, name === "HMAC" ? ["sign", "verify"] : name === "AES-KW" ? ["wrapKey", "unwrapKey"] : ["encrypt", "decrypt", "wrapKey", "unwrapKey"]);
      let algorithm;
      if (name === "HMAC") {
        const length = normalized.length === undefined ? HASH_BLOCK_BITS[normalized.hash.name] : normalized.length;
        if (length === 0) throw operationError("HMAC key length cannot be zero");
        algorithm = { name, length, hash: { name: normalized.hash.name } };
      } else algorithm = { name, length: normalized.length };
      if (usages.length === 0) throw syntaxError("A secret key needs at least one usage");
      const info = host({ op: "generateKey", algorithm: { name, length: algorithm.length } });
      return newKey(info, info.data, "", algorithm, extractable, normalizeUsages(usages));
    }
    allowUsages(usages, [...PUBLIC_USAGES[name], ...PRIVATE_USAGES[name]]);
    const privateUsages = intersect(usages, PRIVATE_USAGES[name]);
    if (privateUsages.length === 0) throw syntaxError("A private key needs at least one usage");
    const inputs = RSA.includes(name) ? { publicExponent: normalized.publicExponent } : {};
    const answer = host({ op: "generateKey", algorithm: hostAlgorithm(normalized) }, inputs);
    const [publicInfo, privateInfo] = answer.keys;
    const publicAlgorithm = keyAlgorithm(name, normalized, publicInfo, answer.data, "public.");
    const privateAlgorithm = keyAlgorithm(name, normalized, privateInfo, answer.data, "private.");
    return {
      publicKey: newKey(publicInfo, answer.data, "public.", publicAlgorithm, true, intersect(usages, PUBLIC_USAGES[name])),
      privateKey: newKey(privateInfo, answer.data, "private.", privateAlgorithm, extractable, privateUsages),
    };
  }

  // -- operations with a key --
  function checkKey(normalized, slots, usage) {
    if (normalized.name !== slots.algorithm.name) throw invalidAccess("The key is for " + slots.algorithm.name + ", not " + normalized.name);
    if (!slots.usages.includes(usage)) throw invalidAccess("The key does not allow '" + usage + "'");
  }
  function cipherNow(op, normalized, slots, data) {
    const algorithm = hostAlgorithm(normalized);
    if (normalized.name === "RSA-OAEP" || normalized.name === "AES-KW") algorithm.hash = slots.algorithm.hash && slots.algorithm.hash.name;
    if (normalized.name === "AES-GCM" && algorithm.tagLength === undefined) algorithm.tagLength = 128;
    const inputs = { data, iv: normalized.iv, counter: normalized.counter, additionalData: normalized.additionalData, label: normalized.label };
    return withKeys([slots], () => host({ op, handle: slots.handle, algorithm }, inputs)).data.data;
  }
  function signatureAlgorithm(normalized, slots) {
    const algorithm = hostAlgorithm(normalized);
    if (!algorithm.hash && slots.algorithm.hash) algorithm.hash = slots.algorithm.hash.name;
    return algorithm;
  }
  function deriveBitsNow(normalized, slots, length) {
    const name = normalized.name;
    const algorithm = hostAlgorithm(normalized);
    const keys = [slots];
    if (name === "ECDH" || name === "X25519") {
      if (slots.type !== "private") throw invalidAccess("The base key must be a private key");
      const other = normalized.public;
      if (other.type !== "public") throw invalidAccess("The 'public' key must be a public key");
      if (other.algorithm.name !== name) throw invalidAccess("The 'public' key is not an " + name + " key");
      if (name === "ECDH" && other.algorithm.namedCurve !== slots.algorithm.namedCurve) throw invalidAccess("The keys are on different curves");
      keys.push(other);
    } else {
      if (length === null || length % 8 !== 0) throw operationError(name + ": the length must be a multiple of 8");
      if (name === "PBKDF2" && normalized.iterations === 0) throw operationError("PBKDF2: iterations must not be zero");
    }
    const inputs = { salt: normalized.salt, info: normalized.info };
    return withKeys(keys, () => {
      if (keys.length > 1) algorithm.public = keys[1].handle;
      return host({ op: "deriveBits", handle: slots.handle, algorithm, length }, inputs);
    }).data.bits;
  }
  function keyLength(normalized) { // the spec's "get key length"
    if (AES.includes(normalized.name)) {
      if (!AES_LENGTHS.includes(normalized.length)) throw operationError("AES key length must be 128, 192 or 256 bits");
      return normalized.length;
    }
    if (normalized.name === "HMAC") {
      if (normalized.length === undefined) return HASH_BLOCK_BITS[normalized.hash.name];
      if (normalized.length === 0) throw new TypeError("HMAC key length cannot be zero");
      return normalized.length;
    }
    return null;
  }

  // -- the interfaces --
  const KEY_TOKEN = Symbol("CryptoKey");
  let keySlots; // (value) -> a CryptoKey's internal slots, or undefined
  class CryptoKey {
    #slots;
    constructor(token = undefined, slots = undefined) { // (defaults: the interface's length is 0)
      if (token !== KEY_TOKEN) throw new TypeError("Illegal constructor");
      this.#slots = slots;
    }
    get type() { return this.#slots.type; }
    get extractable() { return this.#slots.extractable; }
    get algorithm() {
      const slots = this.#slots;
      if (!slots.algorithmCached) {
        const a = slots.algorithm;
        slots.algorithmCached = { ...a };
        if (a.hash) slots.algorithmCached.hash = { name: a.hash.name };
        if (a.publicExponent) slots.algorithmCached.publicExponent = a.publicExponent.slice();
      }
      return slots.algorithmCached;
    }
    get usages() { return this.#slots.usagesCached || (this.#slots.usagesCached = this.#slots.usages.slice()); }
    static { keySlots = (value) => (isObject(value) && #slots in value ? value.#slots : undefined); }
  }

  const SUBTLE_TOKEN = Symbol("SubtleCrypto");
  let isSubtle;
  // A method's WebIDL conversions and algorithm normalization (steps) fail its promise at once;
  // what the spec runs "in parallel" (the function steps return) settles it a microtask later, as a
  // queued task would. It runs now, synchronously: buffers are read before the method returns.
  function promise(self, given, required, method, steps) {
    let parallel;
    try {
      if (!isSubtle(self)) throw new TypeError("Illegal invocation");
      if (given < required) throw new TypeError("SubtleCrypto." + method + ": " + required + " arguments required, " + given + " given");
      parallel = steps();
    } catch (e) {
      return Promise.reject(e);
    }
    let result, failed = false;
    try { result = parallel(); } catch (e) { result = e; failed = true; }
    return Promise.resolve().then(() => { if (failed) throw result; return result; });
  }
  function normalizeWrapping(op, fallback, algorithm) {
    try { return normalize(op, algorithm); } catch (e) { return normalize(fallback, algorithm); }
  }
  class SubtleCrypto {
    #brand = true;
    constructor(token = undefined) { if (token !== SUBTLE_TOKEN) throw new TypeError("Illegal constructor"); }
    static { isSubtle = (value) => isObject(value) && #brand in value; }

    encrypt(algorithm, key, data) {
      return promise(this, arguments.length, 3, "encrypt", () => {
        algorithm = idlAlgorithmIdentifier(algorithm); const slots = idlKey(key, "key"); data = idlBytes(data, "data");
        const normalized = normalize("encrypt", algorithm);
        return () => { checkKey(normalized, slots, "encrypt"); return cipherNow("encrypt", normalized, slots, data); };
      });
    }
    decrypt(algorithm, key, data) {
      return promise(this, arguments.length, 3, "decrypt", () => {
        algorithm = idlAlgorithmIdentifier(algorithm); const slots = idlKey(key, "key"); data = idlBytes(data, "data");
        const normalized = normalize("decrypt", algorithm);
        return () => { checkKey(normalized, slots, "decrypt"); return cipherNow("decrypt", normalized, slots, data); };
      });
    }
    sign(algorithm, key, data) {
      return promise(this, arguments.length, 3, "sign", () => {
        algorithm = idlAlgorithmIdentifier(algorithm); const slots = idlKey(key, "key"); data = idlBytes(data, "data");
        const normalized = normalize("sign", algorithm);
        return () => {
          checkKey(normalized, slots, "sign");
          if (slots.type === "public") throw invalidAccess("A public key cannot sign");
          const header = { op: "sign", algorithm: signatureAlgorithm(normalized, slots) };
          return withKeys([slots], () => host(Object.assign(header, { handle: slots.handle }), { data })).data.signature;
        };
      });
    }
    verify(algorithm, key, signature, data) {
      return promise(this, arguments.length, 4, "verify", () => {
        algorithm = idlAlgorithmIdentifier(algorithm); const slots = idlKey(key, "key");
        signature = idlBytes(signature, "signature"); data = idlBytes(data, "data");
        const normalized = normalize("verify", algorithm);
        return () => {
          checkKey(normalized, slots, "verify");
          if (slots.type === "private") throw invalidAccess("A private key cannot verify");
          const header = { op: "verify", algorithm: signatureAlgorithm(normalized, slots) };
          return withKeys([slots], () => host(Object.assign(header, { handle: slots.handle }), { signature, data })).valid;
        };
      });
    }
    digest(algorithm, data) {
      return promise(this, arguments.length, 2, "digest", () => {
        algorithm = idlAlgorithmIdentifier(algorithm); data = idlBytes(data, "data");
        const normalized = normalize("digest", algorithm);
        return () => host({ op: "digest", hash: normalized.name }, { data }).data.data;
      });
    }
    generateKey(algorithm, extractable, keyUsages) {
      return promise(this, arguments.length, 3, "generateKey", () => {
        algorithm = idlAlgorithmIdentifier(algorithm); extractable = !!extractable; keyUsages = idlUsages(keyUsages);
        const normalized = normalize("generateKey", algorithm);
        checkGenerateParameters(normalized);
        return () => generateKeyNow(normalized, extractable, keyUsages);
      });
    }
    deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      return promise(this, arguments.length, 5, "deriveKey", () => {
        algorithm = idlAlgorithmIdentifier(algorithm); const slots = idlKey(baseKey, "baseKey");
        derivedKeyType = idlAlgorithmIdentifier(derivedKeyType); extractable = !!extractable; keyUsages = idlUsages(keyUsages);
        const normalized = normalize("deriveBits", algorithm);
        const importAlgorithm = normalize("importKey", derivedKeyType);
        const lengthAlgorithm = normalize("get key length", derivedKeyType);
        return () => {
          checkKey(normalized, slots, "deriveKey");
          const secret = new Uint8Array(deriveBitsNow(normalized, slots, keyLength(lengthAlgorithm)));
          return importKeyNow("raw", secret, importAlgorithm, extractable, keyUsages);
        };
      });
    }
    deriveBits(algorithm, baseKey, length = null) {
      return promise(this, arguments.length, 2, "deriveBits", () => {
        algorithm = idlAlgorithmIdentifier(algorithm); const slots = idlKey(baseKey, "baseKey");
        length = length === undefined || length === null ? null : idlEnforceRange(length, 32, "length");
        const normalized = normalize("deriveBits", algorithm);
        return () => { checkKey(normalized, slots, "deriveBits"); return deriveBitsNow(normalized, slots, length); };
      });
    }
    importKey(format, keyData, algorithm, extractable, keyUsages) {
      return promise(this, arguments.length, 5, "importKey", () => {
        format = idlEnum(format, KEY_FORMATS, "KeyFormat");
        const isBuffer = keyData instanceof ArrayBuffer || ArrayBuffer.isView(keyData);
        keyData = isBuffer ? idlBytes(keyData, "keyData") : idlJsonWebKey(keyData);
        algorithm = idlAlgorithmIdentifier(algorithm); extractable = !!extractable; keyUsages = idlUsages(keyUsages);
        const normalized = normalize("importKey", algorithm);
        if ((format === "jwk") === isBuffer) throw new TypeError(format === "jwk" ? "keyData must be a JsonWebKey" : "keyData must be a BufferSource");
        return () => importKeyNow(format, keyData, normalized, extractable, keyUsages);
      });
    }
    exportKey(format, key) {
      return promise(this, arguments.length, 2, "exportKey", () => {
        format = idlEnum(format, KEY_FORMATS, "KeyFormat"); const slots = idlKey(key, "key");
        return () => exportKeyNow(format, slots);
      });
    }
    wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      return promise(this, arguments.length, 4, "wrapKey", () => {
        format = idlEnum(format, KEY_FORMATS, "KeyFormat"); const slots = idlKey(key, "key");
        const wrapping = idlKey(wrappingKey, "wrappingKey"); wrapAlgorithm = idlAlgorithmIdentifier(wrapAlgorithm);
        const normalized = normalizeWrapping("wrapKey", "encrypt", wrapAlgorithm);
        return () => {
          checkKey(normalized, wrapping, "wrapKey");
          const exported = exportKeyNow(format, slots);
          let json = format === "jwk" ? JSON.stringify(exported) : "";
          if (normalized.name === "AES-KW") json = json.padEnd(Math.ceil(json.length / 8) * 8, " "); // whole 64-bit blocks
          const bytes = format === "jwk" ? native.utf8Encode(json) : new Uint8Array(exported);
          return cipherNow("encrypt", normalized, wrapping, bytes);
        };
      });
    }
    unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
      return promise(this, arguments.length, 7, "unwrapKey", () => {
        format = idlEnum(format, KEY_FORMATS, "KeyFormat"); wrappedKey = idlBytes(wrappedKey, "wrappedKey");
        const unwrapping = idlKey(unwrappingKey, "unwrappingKey"); unwrapAlgorithm = idlAlgorithmIdentifier(unwrapAlgorithm);
        unwrappedKeyAlgorithm = idlAlgorithmIdentifier(unwrappedKeyAlgorithm); extractable = !!extractable; keyUsages = idlUsages(keyUsages);
        const normalized = normalizeWrapping("unwrapKey", "decrypt", unwrapAlgorithm);
        const keyAlgorithmNormalized = normalize("importKey", unwrappedKeyAlgorithm);
        return () => {
          checkKey(normalized, unwrapping, "unwrapKey");
          const bytes = new Uint8Array(cipherNow("decrypt", normalized, unwrapping, wrappedKey));
          let keyData = bytes;
          if (format === "jwk") {
            let parsed;
            try { parsed = JSON.parse(native.utf8Decode(bytes, true)); } catch (e) { throw dataError("The unwrapped key is not a JSON Web Key"); }
            keyData = idlJsonWebKey(parsed);
            if (keyData.kty === undefined) throw dataError("The unwrapped JSON Web Key has no 'kty'");
          }
          return importKeyNow(format, keyData, keyAlgorithmNormalized, extractable, keyUsages);
        };
      });
    }
  }
  // The Crypto interface: crypto's own getRandomValues and randomUUID (above) move to its prototype.
  const { getRandomValues, randomUUID } = cryptoObject;
  class Crypto {
    constructor(token = undefined) { throw new TypeError("Illegal constructor"); }
    get subtle() { if (this !== cryptoObject) throw new TypeError("Illegal invocation"); return subtle; }
    getRandomValues(array) {
      if (this !== cryptoObject) throw new TypeError("Illegal invocation");
      return getRandomValues.call(this, array);
    }
    randomUUID() {
      if (this !== cryptoObject) throw new TypeError("Illegal invocation");
      return randomUUID.call(this);
    }
  }
  delete cryptoObject.getRandomValues;
  delete cryptoObject.randomUUID;
  Object.setPrototypeOf(cryptoObject, Crypto.prototype);
  for (const cls of [CryptoKey, SubtleCrypto, Crypto]) { // WebIDL: members enumerable, a class string
    const proto = cls.prototype;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key !== "constructor") Object.defineProperty(proto, key, { enumerable: true });
    }
    Object.defineProperty(proto, Symbol.toStringTag, { value: cls.name, configurable: true });
  }
  const subtle = new SubtleCrypto(SUBTLE_TOKEN);
  define("Crypto", Crypto);
  define("CryptoKey", CryptoKey);
  define("SubtleCrypto", SubtleCrypto);
  }
