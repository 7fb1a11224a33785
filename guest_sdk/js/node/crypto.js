// node:crypto basics for wasmtask functions (toolchains/bundler.py maps `node:crypto` and `crypto`
// here): randomness from the host (crypto.getRandomValues), createHash/createHmac in JS over
// @noble/hashes (an audited pure-JS implementation from the platform's npm set), timingSafeEqual,
// and the Web Crypto API as webcrypto/subtle. No ciphers, keys or signatures in the Node style:
// use crypto.subtle for those.

import { Buffer } from "buffer";
import { md5, sha1 } from "@noble/hashes/legacy.js";
import { sha224, sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";

const ALGORITHMS = { md5, sha1, sha224, sha256, sha384, sha512, "sha-1": sha1, "sha-256": sha256, "sha-384": sha384, "sha-512": sha512 };

function algorithm(name) {
  const found = ALGORITHMS[String(name).toLowerCase()];
  if (!found) throw new Error("Digest method not supported: " + name + " (wasmtask supports " + getHashes().join(", ") + ")");
  return found;
}

function bytesOf(data, encoding) {
  if (typeof data === "string") return Buffer.from(data, encoding || "utf8");
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
}

function output(bytes, encoding) {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding === undefined || encoding === "buffer" ? buffer : buffer.toString(encoding);
}

class Digest {
  constructor(state) { this._state = state; this._done = false; }
  update(data, encoding) {
    if (this._done) throw new Error("Digest already called");
    this._state.update(bytesOf(data, encoding));
    return this;
  }
  digest(encoding) {
    if (this._done) throw new Error("Digest already called");
    this._done = true;
    return output(this._state.digest(), encoding);
  }
}

export class Hash extends Digest {
  copy() {
    if (this._done) throw new Error("Digest already called");
    return new Hash(this._state.clone());
  }
}

export class Hmac extends Digest {}

export function createHash(name) {
  return new Hash(algorithm(name).create());
}

export function createHmac(name, key) {
  const secret = typeof key === "object" && key !== null && key.type === "secret" && typeof key.export === "function" ? key.export() : bytesOf(key);
  return new Hmac(hmac.create(algorithm(name), secret));
}

export function hash(name, data, encoding = "hex") {
  return output(algorithm(name)(bytesOf(data)), encoding);
}

export function getHashes() {
  return ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
}

function randomFill(view) {
  for (let offset = 0; offset < view.length; offset += 65536) crypto.getRandomValues(view.subarray(offset, offset + 65536));
  return view;
}

export function randomBytes(size, callback) {
  if (!Number.isInteger(size) || size < 0 || size > 2 ** 31 - 1) throw new RangeError('The "size" argument is out of range');
  const bytes = randomFill(Buffer.alloc(size));
  if (typeof callback === "function") { queueMicrotask(() => callback(null, bytes)); return undefined; }
  return bytes;
}

export function randomFillSync(view, offset = 0, size) {
  const bytes = bytesOf(view);
  randomFill(bytes.subarray(offset, size === undefined ? undefined : offset + size));
  return view;
}

export function randomInt(min, max, callback) {
  if (max === undefined || typeof max === "function") { callback = max; max = min; min = 0; }
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min || max - min > 2 ** 48) {
    throw new RangeError('The "max" argument must be a safe integer greater than "min" (a range of at most 2**48)');
  }
  const range = max - min;
  const limit = 2 ** 48 - (2 ** 48 % range); // reject the top so every value is equally likely
  const word = new Uint16Array(3);
  let value;
  do {
    crypto.getRandomValues(word);
    value = word[0] * 2 ** 32 + word[1] * 2 ** 16 + word[2];
  } while (value >= limit);
  const result = min + (value % range);
  if (typeof callback === "function") { queueMicrotask(() => callback(null, result)); return undefined; }
  return result;
}

export function randomUUID() {
  return crypto.randomUUID();
}

export function getRandomValues(view) {
  return crypto.getRandomValues(view);
}

export function timingSafeEqual(a, b) {
  const x = bytesOf(a), y = bytesOf(b);
  if (x.byteLength !== y.byteLength) throw new RangeError("Input buffers must have the same byte length");
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= x[i] ^ y[i];
  return difference === 0;
}

export const webcrypto = globalThis.crypto;
export const subtle = globalThis.crypto.subtle;

export default {
  Hash, Hmac, createHash, createHmac, hash, getHashes, randomBytes, randomFillSync, randomInt, randomUUID,
  getRandomValues, timingSafeEqual, webcrypto, subtle,
};
