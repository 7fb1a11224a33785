"""WebCrypto (``crypto.subtle``) on the host: one call's keys, and the operations on them.

The guest's JS (guest_sdk/js/prelude/30-crypto.js) converts and normalizes the
arguments and checks usages, key types and JWK members as the WebCrypto spec
says; the key material and the work live here, in the ``cryptography`` package
(OpenSSL): constant-time MAC and signature checks, no key bytes kept in the
guest. A ``CryptoSession`` is one call's table of keys, addressed by handles
that mean nothing in another call (each session numbers its keys from a random
base, so a handle that survived in a snapshot is recognised as foreign); it is
dropped with the call.

A request is a JSON header (``op`` and its parameters) with named byte inputs;
an answer is a JSON header with named byte outputs (isolates/capabilities/crypto.py
frames both). Failures are ``CryptoError``s named like the DOMException the
guest throws (``DataError``, ``OperationError``, ...).

Cost. Host work is not metered by wasmtime, so every operation is priced
before it runs and the price is charged to the call's fuel (the capability's
``charge``; a price above what is left ends the call with ``cpu_limit``). The
prices are host time at ``FUEL_PER_HOST_NS``: a guest JS loop burns about 11
fuel per ns on this class of machine (benches.inprocess "cpu-heavy": 160 M fuel
in 14.4 ms), so a host operation costs what the same CPU time costs in the
guest. Measured here (cryptography 50, OpenSSL, one core): SHA-1/256 0.6 ns and
SHA-384/512 1.8 ns a byte; AES-GCM/CTR 0.45 ns, AES-CBC 4.8 ns a byte; PBKDF2
0.17 us (SHA-256), 0.34 us (SHA-1), 0.57 us (SHA-384/512) an iteration; P-256
sign 31 us, verify 95 us; P-384 sign 342 us, verify 698 us, ECDH 800 us;
Ed25519 sign 32 us, verify 107 us; RSA-2048 sign 246 us, verify 27 us, key
generation 38 ms (4096: 0.8 s). The key material's formats are in
host_api.crypto_keys.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import Any, Final

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, keywrap
from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from host_api.crypto_keys import (
    CURVE_BYTES,
    CURVES,
    EC_ALGORITHMS,
    OKP_ALGORITHMS,
    RSA_ALGORITHMS,
    SECRET_ALGORITHMS,
    Answer,
    CryptoError,
    Inputs,
    Key,
    PrivateKey,
    export_key,
    import_ec,
    import_okp,
    import_rsa,
    integer_bytes,
    jwk_fields,
    operation_error,
)

# ---- limits and prices -------------------------------------------------------------------

MAX_INPUT_BYTES: Final = 16 << 20  # the bytes one operation may take in (data, key, parameters)
MAX_KEYS_PER_CALL: Final = 10_000
MAX_RSA_GENERATE_BITS: Final = 4096
MAX_OPERATION_FUEL: Final = 10_000_000_000  # ~1 s of host time: one operation may not block the thread longer

FUEL_PER_HOST_NS: Final = 10
FUEL_PER_OPERATION: Final = 50_000  # the host call, framing and dispatch (~5 us)
FUEL_PER_INPUT_BYTE: Final = 1  # copying in and out of guest memory
FUEL_PER_HASHED_BYTE: Final[dict[str, int]] = {"SHA-1": 6, "SHA-256": 6, "SHA-384": 18, "SHA-512": 18}
FUEL_PER_PBKDF2_ITERATION: Final[dict[str, int]] = {"SHA-1": 3_500, "SHA-256": 1_800, "SHA-384": 6_000,
                                                    "SHA-512": 6_000}
FUEL_PER_CIPHER_BYTE: Final[dict[str, int]] = {"AES-GCM": 5, "AES-CTR": 5, "AES-CBC": 50, "AES-KW": 50}
# (sign, verify, generate, derive) per curve
FUEL_PER_CURVE_OPERATION: Final[dict[str, tuple[int, int, int, int]]] = {
    "P-256": (320_000, 1_000_000, 200_000, 500_000),
    "P-384": (3_500_000, 7_000_000, 2_300_000, 8_000_000),
    "P-521": (2_500_000, 5_000_000, 1_300_000, 5_000_000),
    "Ed25519": (330_000, 1_100_000, 330_000, 0),
    "X25519": (0, 0, 330_000, 330_000),
}
FUEL_RSA_PUBLIC_2048: Final = 300_000  # verify, encrypt; scales with the square of the modulus
FUEL_RSA_PRIVATE_2048: Final = 2_500_000  # sign, decrypt; scales with the cube
FUEL_RSA_GENERATE_2048: Final = 400_000_000  # scales with the fourth power (and varies a lot)
FUEL_KEY_IMPORT: Final = 200_000

# ---- names ---------------------------------------------------------------------------

HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "SHA-1": hashes.SHA1, "SHA-256": hashes.SHA256, "SHA-384": hashes.SHA384, "SHA-512": hashes.SHA512,
}

# ---- the session -----------------------------------------------------------------------

Charge = Callable[[int], None]


def _free(_fuel: int) -> None:
    pass


class CryptoSession:
    """One call's keys and the operations on them."""

    def __init__(self) -> None:
        self._charge: Charge = _free
        self._keys: dict[int, Key] = {}
        self._base = secrets.randbits(31) << 20  # handles of another call (a snapshot's) are not found here
        self._next = 0

    # -- the door --

    def perform(self, header: dict[str, Any], inputs: Inputs, charge: Charge = _free) -> Answer:
        """Run one operation; raises ``CryptoError``. ``charge(fuel)`` is called with the price
        before any work (it raises to refuse, e.g. when the call's fuel is spent)."""
        self._charge = charge
        size = sum(len(value) for value in inputs.values())
        if size > MAX_INPUT_BYTES:
            raise CryptoError("QuotaExceededError",
                              f"{size} bytes is over the limit of {MAX_INPUT_BYTES} bytes per crypto.subtle operation")
        operation = self._OPERATIONS.get(str(header.get("op")))
        if operation is None:
            raise CryptoError("NotSupportedError", f"unknown operation {header.get('op')!r}")
        self._pay(FUEL_PER_OPERATION + FUEL_PER_INPUT_BYTE * size)
        try:
            return operation(self, header, inputs)
        except CryptoError:
            raise
        except (ValueError, TypeError, OverflowError, InvalidTag, KeyError) as exc:
            raise operation_error(f"{header.get('op')} failed: {exc or type(exc).__name__}") from exc

    def _pay(self, fuel: int) -> None:
        if fuel > MAX_OPERATION_FUEL:
            raise operation_error("this operation would take more than a second of host time; refused")
        self._charge(fuel)

    def key(self, handle: Any) -> Key:
        key = self._keys.get(handle) if isinstance(handle, int) else None
        if key is None:
            raise CryptoError("KeyUnavailable", "this CryptoKey belongs to another call")
        return key

    def _add(self, key: Key) -> int:
        if len(self._keys) >= MAX_KEYS_PER_CALL:
            raise operation_error(f"more than {MAX_KEYS_PER_CALL} keys in one call")
        handle = self._base + self._next
        self._next += 1
        self._keys[handle] = key
        return handle

    def _describe(self, key: Key, recipe: bool, outputs: Inputs, prefix: str = "") -> dict[str, Any]:
        """What the guest's CryptoKey needs to know of a new key (and, asked for a recipe, its material)."""
        handle = self._add(key)
        info: dict[str, Any] = {"handle": handle, "type": key.kind}
        material = key.material
        if isinstance(material, bytes):
            info["length"] = len(material) * 8
        elif isinstance(material, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
            numbers = material.public_key().public_numbers() if isinstance(material, rsa.RSAPrivateKey) \
                else material.public_numbers()
            info["modulusLength"] = numbers.n.bit_length()
            outputs[prefix + "publicExponent"] = integer_bytes(numbers.e)
        if key.curve:
            info["namedCurve"] = key.curve
        if recipe:  # a key made at the top level: the guest keeps a way to re-create it in later calls
            info["recipe"] = "raw" if key.kind == "secret" else ("pkcs8" if key.kind == "private" else "spki")
            outputs[prefix + "recipe"] = export_key(key, info["recipe"])
        return info

    # -- digest --

    def digest(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        name = _hash_name(header.get("hash"))
        data = inputs.get("data", b"")
        self._pay(FUEL_PER_HASHED_BYTE[name] * len(data))
        digest = hashes.Hash(HASHES[name]())
        digest.update(data)
        return {}, {"data": digest.finalize()}

    # -- keys in --

    def import_key(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        self._pay(FUEL_KEY_IMPORT)
        algorithm = header.get("algorithm") or {}
        name = str(algorithm.get("name"))
        key_format = str(header.get("format"))
        if name in SECRET_ALGORITHMS:
            if key_format != "raw":
                raise CryptoError("NotSupportedError", f"{name} keys are imported as raw bytes")
            key = Key("secret", name, inputs.get("keyData", b""))
        elif name in EC_ALGORITHMS:
            key = import_ec(name, key_format, str(algorithm.get("namedCurve")), inputs)
        elif name in RSA_ALGORITHMS:
            key = import_rsa(name, key_format, inputs)
        elif name in OKP_ALGORITHMS:
            key = import_okp(name, key_format, inputs)
        else:
            raise CryptoError("NotSupportedError", f"cannot import {name} keys")
        outputs: Inputs = {}
        return self._describe(key, bool(header.get("recipe")), outputs), outputs

    def generate_key(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        algorithm = header.get("algorithm") or {}
        name = str(algorithm.get("name"))
        recipe = bool(header.get("recipe"))
        outputs: Inputs = {}
        if name in SECRET_ALGORITHMS:
            bits = int(algorithm.get("length", 0))
            if not 0 < bits <= 65536:
                raise operation_error(f"cannot generate a {bits}-bit key")
            return self._describe(Key("secret", name, os.urandom((bits + 7) // 8)), recipe, outputs), outputs
        private: PrivateKey
        curve = ""
        if name in EC_ALGORITHMS:
            curve = str(algorithm.get("namedCurve"))
            if curve not in CURVES:
                raise CryptoError("NotSupportedError", f"unsupported curve {curve!r}")
            self._pay(FUEL_PER_CURVE_OPERATION[curve][2])
            private = ec.generate_private_key(CURVES[curve]())
        elif name == "Ed25519":
            curve = name
            self._pay(FUEL_PER_CURVE_OPERATION[name][2])
            private = ed25519.Ed25519PrivateKey.generate()
        elif name == "X25519":
            curve = name
            self._pay(FUEL_PER_CURVE_OPERATION[name][2])
            private = x25519.X25519PrivateKey.generate()
        elif name in RSA_ALGORITHMS:
            bits = int(algorithm.get("modulusLength", 0))
            exponent = int.from_bytes(inputs.get("publicExponent", b""), "big")
            if not 1024 <= bits <= MAX_RSA_GENERATE_BITS or bits % 8 or exponent not in (3, 65537):
                raise operation_error("RSA keys are generated with a modulus of 1024 to "
                                      f"{MAX_RSA_GENERATE_BITS} bits (a multiple of 8) and a public exponent "
                                      "of 3 or 65537")
            self._pay(FUEL_RSA_GENERATE_2048 * bits ** 4 // 2048 ** 4)
            private = rsa.generate_private_key(exponent, bits)
        else:
            raise CryptoError("NotSupportedError", f"cannot generate {name} keys")
        public = Key("public", name, private.public_key(), curve)
        described = [self._describe(public, False, outputs, "public."),
                     self._describe(Key("private", name, private, curve), recipe, outputs, "private.")]
        return {"keys": described}, outputs

    # -- keys out --

    def export_key(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        key = self.key(header.get("handle"))
        key_format = str(header.get("format"))
        if key_format == "jwk":
            return {}, jwk_fields(key)
        return {}, {"keyData": export_key(key, key_format)}

    # -- sign and verify --

    def sign(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        key = self.key(header.get("handle"))
        algorithm = header.get("algorithm") or {}
        data = inputs.get("data", b"")
        material = key.material
        name = str(algorithm.get("name"))
        if name == "HMAC":
            hash_name = _hash_name(algorithm.get("hash"))
            self._pay(FUEL_PER_HASHED_BYTE[hash_name] * (len(data) + 256))
            mac = hmac.HMAC(key.secret, HASHES[hash_name]())
            mac.update(data)
            return {}, {"signature": mac.finalize()}
        if name == "ECDSA" and isinstance(material, ec.EllipticCurvePrivateKey):
            hash_name = _hash_name(algorithm.get("hash"))
            self._pay(FUEL_PER_CURVE_OPERATION[key.curve][0] + FUEL_PER_HASHED_BYTE[hash_name] * len(data))
            r, s = decode_dss_signature(material.sign(data, ec.ECDSA(HASHES[hash_name]())))
            size = CURVE_BYTES[key.curve]
            return {}, {"signature": integer_bytes(r, size) + integer_bytes(s, size)}
        if name == "Ed25519" and isinstance(material, ed25519.Ed25519PrivateKey):
            self._pay(FUEL_PER_CURVE_OPERATION[name][0] + FUEL_PER_HASHED_BYTE["SHA-512"] * 2 * len(data))
            return {}, {"signature": material.sign(data)}
        if name in ("RSASSA-PKCS1-v1_5", "RSA-PSS") and isinstance(material, rsa.RSAPrivateKey):
            hash_name = _hash_name(algorithm.get("hash"))
            self._pay(_rsa_fuel(material.key_size, private=True) + FUEL_PER_HASHED_BYTE[hash_name] * len(data))
            return {}, {"signature": material.sign(data, _rsa_signature_padding(name, algorithm, hash_name),
                                                   HASHES[hash_name]())}
        raise CryptoError("InvalidAccessError", f"this key cannot sign with {name}")

    def verify(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        key = self.key(header.get("handle"))
        algorithm = header.get("algorithm") or {}
        data = inputs.get("data", b"")
        signature = inputs.get("signature", b"")
        material = key.material
        name = str(algorithm.get("name"))
        try:
            if name == "HMAC":
                hash_name = _hash_name(algorithm.get("hash"))
                self._pay(FUEL_PER_HASHED_BYTE[hash_name] * (len(data) + 256))
                mac = hmac.HMAC(key.secret, HASHES[hash_name]())
                mac.update(data)
                mac.verify(signature)  # constant-time comparison
            elif name == "ECDSA" and isinstance(material, ec.EllipticCurvePublicKey):
                hash_name = _hash_name(algorithm.get("hash"))
                self._pay(FUEL_PER_CURVE_OPERATION[key.curve][1] + FUEL_PER_HASHED_BYTE[hash_name] * len(data))
                size = CURVE_BYTES[key.curve]
                if len(signature) != 2 * size:
                    return {"valid": False}, {}
                r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
                der = encode_dss_signature(r, s)
                material.verify(der, data, ec.ECDSA(HASHES[hash_name]()))
            elif name == "Ed25519" and isinstance(material, ed25519.Ed25519PublicKey):
                self._pay(FUEL_PER_CURVE_OPERATION[name][1] + FUEL_PER_HASHED_BYTE["SHA-512"] * len(data))
                if len(signature) != 64:
                    return {"valid": False}, {}
                material.verify(signature, data)
            elif name in ("RSASSA-PKCS1-v1_5", "RSA-PSS") and isinstance(material, rsa.RSAPublicKey):
                hash_name = _hash_name(algorithm.get("hash"))
                self._pay(_rsa_fuel(material.key_size, private=False) + FUEL_PER_HASHED_BYTE[hash_name] * len(data))
                material.verify(signature, data, _rsa_signature_padding(name, algorithm, hash_name),
                                HASHES[hash_name]())
            else:
                raise CryptoError("InvalidAccessError", f"this key cannot verify with {name}")
        except (InvalidSignature, ValueError):
            return {"valid": False}, {}
        return {"valid": True}, {}

    # -- encrypt and decrypt (and AES-KW's wrap and unwrap) --

    def encrypt(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        return self._cipher(header, inputs, encrypting=True)

    def decrypt(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        return self._cipher(header, inputs, encrypting=False)

    def _cipher(self, header: dict[str, Any], inputs: Inputs, *, encrypting: bool) -> Answer:
        key = self.key(header.get("handle"))
        algorithm = header.get("algorithm") or {}
        name = str(algorithm.get("name"))
        data = inputs.get("data", b"")
        if name == "RSA-OAEP":
            return {}, {"data": self._rsa_oaep(key, algorithm, inputs, data, encrypting)}
        if name not in FUEL_PER_CIPHER_BYTE:
            raise CryptoError("NotSupportedError", f"{name} does not encrypt")
        self._pay(FUEL_PER_CIPHER_BYTE[name] * len(data))
        secret = key.secret
        if name == "AES-CBC":
            return {}, {"data": _aes_cbc(secret, inputs.get("iv", b""), data, encrypting)}
        if name == "AES-CTR":
            return {}, {"data": _aes_ctr(secret, inputs.get("counter", b""), int(algorithm.get("length", 0)), data)}
        if name == "AES-GCM":
            return {}, {"data": _aes_gcm(secret, inputs.get("iv", b""), inputs.get("additionalData", b""),
                                         int(algorithm.get("tagLength", 128)), data, encrypting)}
        try:  # AES-KW
            wrapped = keywrap.aes_key_wrap(secret, data) if encrypting else keywrap.aes_key_unwrap(secret, data)
        except keywrap.InvalidUnwrap as exc:
            raise operation_error("AES-KW: the wrapped key does not unwrap with this key") from exc
        return {}, {"data": wrapped}

    def _rsa_oaep(self, key: Key, algorithm: dict[str, Any], inputs: Inputs, data: bytes, encrypting: bool) -> bytes:
        material = key.material
        hash_algorithm = HASHES[_hash_name(algorithm.get("hash"))]()
        label = inputs.get("label") or None
        oaep = rsa_padding.OAEP(mgf=rsa_padding.MGF1(hash_algorithm), algorithm=hash_algorithm, label=label)
        if encrypting and isinstance(material, rsa.RSAPublicKey):
            self._pay(_rsa_fuel(material.key_size, private=False))
            return material.encrypt(data, oaep)
        if not encrypting and isinstance(material, rsa.RSAPrivateKey):
            self._pay(_rsa_fuel(material.key_size, private=True))
            return material.decrypt(data, oaep)
        raise CryptoError("InvalidAccessError", "this key cannot do that with RSA-OAEP")

    # -- deriving --

    def derive_bits(self, header: dict[str, Any], inputs: Inputs) -> Answer:
        key = self.key(header.get("handle"))
        algorithm = header.get("algorithm") or {}
        name = str(algorithm.get("name"))
        length = header.get("length")
        if name in ("ECDH", "X25519"):
            return {}, {"bits": self._agree(key, self.key(algorithm.get("public")), length)}
        if length is None or not isinstance(length, int) or length % 8:
            raise operation_error(f"{name}: the length must be a multiple of 8 bits")
        if length == 0:
            return {}, {"bits": b""}
        hash_name = _hash_name(algorithm.get("hash"))
        size = length // 8
        if name == "HKDF":
            digest_size = HASHES[hash_name]().digest_size
            if size > 255 * digest_size:
                raise operation_error(f"HKDF: at most {255 * digest_size * 8} bits with {hash_name}")
            self._pay(FUEL_PER_HASHED_BYTE[hash_name] * (4 * size + 512))
            kdf = HKDF(HASHES[hash_name](), size, inputs.get("salt", b""), inputs.get("info", b""))
            return {}, {"bits": kdf.derive(key.secret)}
        if name == "PBKDF2":
            iterations = int(algorithm.get("iterations", 0))
            if iterations <= 0:
                raise operation_error("PBKDF2: iterations must be at least 1")
            blocks = -(-size // HASHES[hash_name]().digest_size)
            self._pay(FUEL_PER_PBKDF2_ITERATION[hash_name] * iterations * blocks)
            kdf2 = PBKDF2HMAC(HASHES[hash_name](), size, inputs.get("salt", b""), iterations)
            return {}, {"bits": kdf2.derive(key.secret)}
        raise CryptoError("NotSupportedError", f"{name} does not derive bits")

    def _agree(self, key: Key, public: Key, length: Any) -> bytes:
        private, other = key.material, public.material
        fuel = FUEL_PER_CURVE_OPERATION.get(key.curve, (0, 0, 0, 0))[3]
        if isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(other, ec.EllipticCurvePublicKey):
            if key.curve != public.curve:
                raise CryptoError("InvalidAccessError", "the public key is on another curve")
            self._pay(fuel)
            secret = private.exchange(ec.ECDH(), other)
        elif isinstance(private, x25519.X25519PrivateKey) and isinstance(other, x25519.X25519PublicKey):
            self._pay(fuel)
            secret = private.exchange(other)
            if not any(secret):
                raise operation_error("X25519: the shared secret is all zeros (a small-order public key)")
        else:
            raise CryptoError("InvalidAccessError", "these keys cannot agree on a secret")
        if length is None:
            return secret
        if not isinstance(length, int) or length < 0 or length > len(secret) * 8:
            raise operation_error(f"asked for {length} bits of a {len(secret) * 8}-bit shared secret")
        truncated = bytearray(secret[:(length + 7) // 8])
        if length % 8:
            truncated[-1] &= (0xFF << (8 - length % 8)) & 0xFF
        return bytes(truncated)

    _OPERATIONS: Final[dict[str, Callable[[CryptoSession, dict[str, Any], Inputs], Answer]]] = {
        "digest": digest,
        "importKey": import_key,
        "generateKey": generate_key,
        "exportKey": export_key,
        "sign": sign,
        "verify": verify,
        "encrypt": encrypt,
        "decrypt": decrypt,
        "deriveBits": derive_bits,
    }




# ---- helpers per algorithm ------------------------------------------------------------

def _hash_name(value: Any) -> str:
    name = value.get("name") if isinstance(value, dict) else value
    if name not in HASHES:
        raise CryptoError("NotSupportedError", f"unsupported hash {name!r}")
    return str(name)


def _rsa_fuel(bits: int, *, private: bool) -> int:
    if private:
        return FUEL_RSA_PRIVATE_2048 * bits ** 3 // 2048 ** 3
    return FUEL_RSA_PUBLIC_2048 * bits ** 2 // 2048 ** 2


def _rsa_signature_padding(name: str, algorithm: dict[str, Any], hash_name: str) -> rsa_padding.AsymmetricPadding:
    if name == "RSA-PSS":
        salt_length = int(algorithm.get("saltLength", 0))
        return rsa_padding.PSS(mgf=rsa_padding.MGF1(HASHES[hash_name]()), salt_length=salt_length)
    return rsa_padding.PKCS1v15()


def _aes_cbc(secret: bytes, iv: bytes, data: bytes, encrypting: bool) -> bytes:
    if len(iv) != 16:
        raise operation_error("AES-CBC: the iv must be 16 bytes")
    cipher = Cipher(algorithms.AES(secret), modes.CBC(iv))
    if encrypting:
        padder = block_padding.PKCS7(128).padder()
        padded = padder.update(data) + padder.finalize()
        encryptor = cipher.encryptor()
        return encryptor.update(padded) + encryptor.finalize()
    if not data or len(data) % 16:
        raise operation_error("AES-CBC: the ciphertext is not a whole number of blocks")
    decryptor = cipher.decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = block_padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise operation_error("AES-CBC: bad padding (wrong key or iv?)") from exc


def _aes_ctr(secret: bytes, counter: bytes, length: int, data: bytes) -> bytes:
    """CTR where only the rightmost ``length`` bits of the counter block count (and wrap)."""
    if len(counter) != 16:
        raise operation_error("AES-CTR: the counter must be 16 bytes")
    if not 0 < length <= 128:
        raise operation_error("AES-CTR: the counter length must be 1 to 128 bits")
    blocks = -(-len(data) // 16)
    if length < 128 and blocks > 1 << length:
        raise operation_error("AES-CTR: the data is longer than the counter can count without repeating")
    value = int.from_bytes(counter, "big")
    mask = (1 << length) - 1
    nonce, low = value & ~mask, value & mask
    out = []
    offset = 0
    while offset < len(data):
        run = min(len(data) - offset, ((mask - low) + 1) * 16)  # blocks until the counter part wraps to zero
        encryptor = Cipher(algorithms.AES(secret), modes.CTR(integer_bytes(nonce | low, 16))).encryptor()
        out.append(encryptor.update(data[offset:offset + run]) + encryptor.finalize())
        offset += run
        low = 0
    return b"".join(out)


def _aes_gcm(secret: bytes, iv: bytes, additional: bytes, tag_bits: int, data: bytes, encrypting: bool) -> bytes:
    if tag_bits not in (32, 64, 96, 104, 112, 120, 128):
        raise operation_error(f"AES-GCM: the tag length {tag_bits} is not one of 32, 64, 96, 104-128 bits")
    if len(iv) < 8 or len(iv) > 1024:  # (cryptography's GCM takes 8 bytes or more; browsers use 12)
        raise operation_error("AES-GCM: the iv must be 8 to 1024 bytes")
    tag_size = tag_bits // 8
    if encrypting:
        encryptor = Cipher(algorithms.AES(secret), modes.GCM(iv)).encryptor()
        encryptor.authenticate_additional_data(additional)
        ciphertext = encryptor.update(data) + encryptor.finalize()
        return ciphertext + encryptor.tag[:tag_size]
    if len(data) < tag_size:
        raise operation_error("AES-GCM: the data is shorter than the tag")
    body, tag = data[:len(data) - tag_size], data[len(data) - tag_size:]
    decryptor = Cipher(algorithms.AES(secret), modes.GCM(iv, tag, min_tag_length=tag_size)).decryptor()
    decryptor.authenticate_additional_data(additional)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag as exc:
        raise operation_error("AES-GCM: the data does not authenticate (wrong key, iv, tag or additional data)") \
            from exc
