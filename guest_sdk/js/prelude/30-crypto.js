  // ---- crypto ---------------------------------------------------------------

  // native.randomFill throws while the user's top-level code runs (shim.c,
  // in_global_scope): a value drawn then would be frozen into the snapshot.
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const cryptoObject = {
    getRandomValues(array) {
      if (!INTEGER_ARRAYS.some((T) => array instanceof T)) throw new TypeError("getRandomValues: expected an integer TypedArray");
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
