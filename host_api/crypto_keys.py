"""WebCrypto key material on the host: the ``Key`` of a call's table, and its formats in and out.

Formats: ``raw`` (secret bytes; an EC point; an OKP public key), ``spki`` and
``pkcs8`` (DER, with the AlgorithmIdentifier checked as the spec says: the
right OID, an EC key's named curve), and JWK members as bytes (the guest
converts them from and to base64url). Errors are ``CryptoError``s named like
the DOMException the guest throws. Operations on keys are in host_api.crypto.

RSA private keys are loaded without OpenSSL's own check, which tests the
primes and costs 62 ms (2048 bits) to 400 ms (4096) here; ``_check_rsa_private``
checks what the arithmetic needs (n = pq, the CRT values) in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

MAX_RSA_MODULUS_BITS: Final = 8192  # import; generation stops earlier (host_api.crypto)

# ---- names ---------------------------------------------------------------------------

CURVES: Final[dict[str, type[ec.EllipticCurve]]] = {
    "P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
}
CURVE_BYTES: Final = {"P-256": 32, "P-384": 48, "P-521": 66}
SECRET_ALGORITHMS: Final = frozenset({"HMAC", "AES-CTR", "AES-CBC", "AES-GCM", "AES-KW", "HKDF", "PBKDF2"})
EC_ALGORITHMS: Final = frozenset({"ECDSA", "ECDH"})
RSA_ALGORITHMS: Final = frozenset({"RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"})
OKP_ALGORITHMS: Final = frozenset({"Ed25519", "X25519"})

OID_RSA_ENCRYPTION: Final = "1.2.840.113549.1.1.1"
OID_EC_PUBLIC_KEY: Final = "1.2.840.10045.2.1"
OID_CURVES: Final = {"1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384", "1.3.132.0.35": "P-521"}
OID_OKP: Final = {"Ed25519": "1.3.101.112", "X25519": "1.3.101.110"}

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey | x25519.X25519PublicKey
PUBLIC_KEY_TYPES: Final = (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, ed25519.Ed25519PublicKey,
                           x25519.X25519PublicKey)
Material = bytes | PrivateKey | PublicKey
Inputs = dict[str, bytes]  # named bytes, in and out of an operation
Answer = tuple[dict[str, Any], Inputs]


class CryptoError(Exception):
    """An operation failed; ``name`` is the DOMException name the guest throws."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def data_error(message: str) -> CryptoError:
    return CryptoError("DataError", message)


def operation_error(message: str) -> CryptoError:
    return CryptoError("OperationError", message)


@dataclass
class Key:
    """A key in a call's table: ``kind`` is "secret", "private" or "public"."""

    kind: str
    algorithm: str
    material: Material
    curve: str = ""  # EC and OKP keys: "P-256", ..., "Ed25519", "X25519"

    @property
    def secret(self) -> bytes:
        if not isinstance(self.material, bytes):
            raise CryptoError("InvalidAccessError", "not a secret key")
        return self.material


# ---- DER: just enough to read an AlgorithmIdentifier ---------------------------------------

def _der_element(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``offset``."""
    if offset + 2 > len(data):
        raise data_error("truncated DER")
    tag, length = data[offset], data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise data_error("bad DER length")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    if start + length > len(data):
        raise data_error("truncated DER")
    return tag, start, start + length


def _oid(content: bytes) -> str:
    if not content:
        raise data_error("empty object identifier")
    parts = [content[0] // 40, content[0] % 40] if content[0] < 80 else [2, content[0] - 80]
    value = 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(part) for part in parts)


def algorithm_identifier(der: bytes, private: bool) -> tuple[str, bytes | None]:
    """The algorithm OID and raw parameters of a SubjectPublicKeyInfo or PrivateKeyInfo (DataError if neither)."""
    tag, start, end = _der_element(der, 0)
    if tag != 0x30 or end != len(der):
        raise data_error("not a DER SEQUENCE (or trailing bytes)")
    offset = start
    if private:  # PrivateKeyInfo: version INTEGER first
        tag, _, offset = _der_element(der, offset)
        if tag != 0x02:
            raise data_error("PrivateKeyInfo without a version")
    tag, start, end = _der_element(der, offset)
    if tag != 0x30:
        raise data_error("no AlgorithmIdentifier")
    tag, oid_start, oid_end = _der_element(der, start)
    if tag != 0x06:
        raise data_error("AlgorithmIdentifier without an OID")
    parameters = der[oid_end:end] if oid_end < end else None
    return _oid(der[oid_start:oid_end]), parameters


def _named_curve(parameters: bytes | None) -> str:
    if not parameters:
        raise data_error("EC key without namedCurve parameters")
    tag, start, end = _der_element(parameters, 0)
    if tag != 0x06 or end != len(parameters):
        raise data_error("EC parameters are not a namedCurve")
    oid = _oid(parameters[start:end])
    if oid not in OID_CURVES:
        raise data_error(f"unsupported elliptic curve {oid}")
    return OID_CURVES[oid]


# ---- numbers -------------------------------------------------------------------------

def integer_bytes(value: int, length: int = 0) -> bytes:
    """Big-endian, minimal (or exactly ``length`` bytes)."""
    return value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big")


def _integer(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _check_rsa_private(numbers: rsa.RSAPrivateNumbers) -> None:
    """The CRT values agree with n, e, d (OpenSSL's full check also tests primality: 62-400 ms)."""
    public = numbers.public_numbers
    n, e = public.n, public.e
    p, q, d = numbers.p, numbers.q, numbers.d
    if (p < 2 or q < 2 or p * q != n or not 1 < d < n or numbers.dmp1 != d % (p - 1)
            or numbers.dmq1 != d % (q - 1) or numbers.iqmp * q % p != 1 or e < 3 or e % 2 == 0
            or (d * e) % (p - 1) != 1 or (d * e) % (q - 1) != 1):
        raise data_error("the RSA private key is inconsistent")


def _recover_rsa_private(n: int, e: int, d: int) -> rsa.RSAPrivateNumbers:
    try:
        p, q = rsa.rsa_recover_prime_factors(n, e, d)
    except ValueError as exc:
        raise data_error("the RSA private key is inconsistent") from exc
    return rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
                                 rsa.RSAPublicNumbers(e, n))


def export_key(key: Key, key_format: str) -> bytes:
    """A key's bytes in ``raw``, ``spki`` or ``pkcs8``."""
    material = key.material
    if isinstance(material, bytes):
        if key_format != "raw":
            raise CryptoError("NotSupportedError", f"a secret key exports as raw, not {key_format}")
        return material
    if key_format == "spki":
        if not isinstance(material, PUBLIC_KEY_TYPES):
            raise CryptoError("InvalidAccessError", "only a public key exports as spki")
        return material.public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    if key_format == "pkcs8":
        if isinstance(material, PUBLIC_KEY_TYPES):
            raise CryptoError("InvalidAccessError", "only a private key exports as pkcs8")
        return material.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    if key_format == "raw":
        if key.kind != "public":
            raise CryptoError("InvalidAccessError", "only a public key exports as raw")
        if isinstance(material, ec.EllipticCurvePublicKey):
            return material.public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
        if isinstance(material, (ed25519.Ed25519PublicKey, x25519.X25519PublicKey)):
            return material.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raise CryptoError("NotSupportedError", f"{key.algorithm} keys do not export as {key_format}")


def import_ec(name: str, key_format: str, curve: str, inputs: Inputs) -> Key:
    if curve not in CURVES:
        raise CryptoError("NotSupportedError", f"unsupported curve {curve!r}")
    curve_class = CURVES[curve]
    data = inputs.get("keyData", b"")
    material: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey
    try:
        if key_format == "raw":
            material = ec.EllipticCurvePublicKey.from_encoded_point(curve_class(), data)
        elif key_format == "spki":
            oid, parameters = algorithm_identifier(data, private=False)
            if oid != OID_EC_PUBLIC_KEY:
                raise data_error("not an EC public key")
            if _named_curve(parameters) != curve:
                raise data_error(f"the key is not on {curve}")
            loaded = serialization.load_der_public_key(data)
            if not isinstance(loaded, ec.EllipticCurvePublicKey):
                raise data_error("not an EC public key")
            material = loaded
        elif key_format == "pkcs8":
            oid, parameters = algorithm_identifier(data, private=True)
            if oid != OID_EC_PUBLIC_KEY:
                raise data_error("not an EC private key")
            if _named_curve(parameters) != curve:
                raise data_error(f"the key is not on {curve}")
            private = serialization.load_der_private_key(data, None)
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                raise data_error("not an EC private key")
            material = private
        elif key_format == "jwk":
            size = CURVE_BYTES[curve]
            x, y = inputs.get("x", b""), inputs.get("y", b"")
            if len(x) != size or len(y) != size:
                raise data_error(f"x and y of a {curve} key are {size} bytes each")
            public_numbers = ec.EllipticCurvePublicNumbers(_integer(x), _integer(y), curve_class())
            if "d" in inputs:
                if len(inputs["d"]) != size:
                    raise data_error(f"d of a {curve} key is {size} bytes")
                material = ec.EllipticCurvePrivateNumbers(_integer(inputs["d"]), public_numbers).private_key()
            else:
                material = public_numbers.public_key()
        else:
            raise CryptoError("NotSupportedError", f"{name} keys do not import as {key_format}")
    except (ValueError, TypeError) as exc:
        raise data_error(f"not a valid {curve} {key_format} key: {exc}") from exc
    if material.curve.name != curve_class().name:
        raise data_error(f"the key is not on {curve}")
    kind = "private" if isinstance(material, ec.EllipticCurvePrivateKey) else "public"
    return Key(kind, name, material, curve)


def import_rsa(name: str, key_format: str, inputs: Inputs) -> Key:
    data = inputs.get("keyData", b"")
    material: rsa.RSAPrivateKey | rsa.RSAPublicKey
    try:
        if key_format == "spki":
            if algorithm_identifier(data, private=False)[0] != OID_RSA_ENCRYPTION:
                raise data_error("not an rsaEncryption key")
            public = serialization.load_der_public_key(data)
            if not isinstance(public, rsa.RSAPublicKey):
                raise data_error("not an RSA public key")
            material = public
        elif key_format == "pkcs8":
            if algorithm_identifier(data, private=True)[0] != OID_RSA_ENCRYPTION:
                raise data_error("not an rsaEncryption key")
            private = serialization.load_der_private_key(data, None, unsafe_skip_rsa_key_validation=True)
            if not isinstance(private, rsa.RSAPrivateKey):
                raise data_error("not an RSA private key")
            _check_rsa_private(private.private_numbers())
            material = private
        elif key_format == "jwk":
            n, e = _integer(inputs.get("n", b"")), _integer(inputs.get("e", b""))
            public_numbers = rsa.RSAPublicNumbers(e, n)
            if "d" not in inputs:
                material = public_numbers.public_key()
            elif all(field in inputs for field in ("p", "q", "dp", "dq", "qi")):
                numbers = rsa.RSAPrivateNumbers(
                    _integer(inputs["p"]), _integer(inputs["q"]), _integer(inputs["d"]), _integer(inputs["dp"]),
                    _integer(inputs["dq"]), _integer(inputs["qi"]), public_numbers)
                _check_rsa_private(numbers)
                material = numbers.private_key(unsafe_skip_rsa_key_validation=True)
            else:
                numbers = _recover_rsa_private(n, e, _integer(inputs["d"]))
                _check_rsa_private(numbers)
                material = numbers.private_key(unsafe_skip_rsa_key_validation=True)
        else:
            raise CryptoError("NotSupportedError", f"{name} keys do not import as {key_format}")
    except (ValueError, TypeError) as exc:
        raise data_error(f"not a valid RSA {key_format} key: {exc}") from exc
    if not 512 <= material.key_size <= MAX_RSA_MODULUS_BITS:
        raise data_error(f"RSA keys of 512 to {MAX_RSA_MODULUS_BITS} bits only")
    return Key("private" if isinstance(material, rsa.RSAPrivateKey) else "public", name, material)


def import_okp(name: str, key_format: str, inputs: Inputs) -> Key:
    data = inputs.get("keyData", b"")
    private_class = ed25519.Ed25519PrivateKey if name == "Ed25519" else x25519.X25519PrivateKey
    public_class = ed25519.Ed25519PublicKey if name == "Ed25519" else x25519.X25519PublicKey
    material: Any
    try:
        if key_format == "raw":
            material = public_class.from_public_bytes(data)
        elif key_format in ("spki", "pkcs8"):
            private = key_format == "pkcs8"
            oid, parameters = algorithm_identifier(data, private=private)
            if oid != OID_OKP[name] or parameters is not None:
                raise data_error(f"not an {name} key")
            material = serialization.load_der_private_key(data, None) if private \
                else serialization.load_der_public_key(data)
            if not isinstance(material, private_class if private else public_class):
                raise data_error(f"not an {name} key")
        elif key_format == "jwk":
            x = inputs.get("x", b"")
            if "d" in inputs:
                material = private_class.from_private_bytes(inputs["d"])
                if material.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw) != x:
                    raise data_error("x is not the public key of d")
            else:
                material = public_class.from_public_bytes(x)
        else:
            raise CryptoError("NotSupportedError", f"{name} keys do not import as {key_format}")
    except (ValueError, TypeError) as exc:
        raise data_error(f"not a valid {name} {key_format} key: {exc}") from exc
    return Key("private" if isinstance(material, private_class) else "public", name, material, name)


def jwk_fields(key: Key) -> Inputs:
    """The key's JWK members as bytes (the guest base64url-encodes them)."""
    material = key.material
    if isinstance(material, bytes):
        return {"k": material}
    if isinstance(material, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        size = CURVE_BYTES[key.curve]
        public = material.public_key() if isinstance(material, ec.EllipticCurvePrivateKey) else material
        numbers = public.public_numbers()
        fields = {"x": integer_bytes(numbers.x, size), "y": integer_bytes(numbers.y, size)}
        if isinstance(material, ec.EllipticCurvePrivateKey):
            fields["d"] = integer_bytes(material.private_numbers().private_value, size)
        return fields
    if isinstance(material, rsa.RSAPublicKey):
        public_numbers = material.public_numbers()
        return {"n": integer_bytes(public_numbers.n), "e": integer_bytes(public_numbers.e)}
    if isinstance(material, rsa.RSAPrivateKey):
        private = material.private_numbers()
        return {"n": integer_bytes(private.public_numbers.n), "e": integer_bytes(private.public_numbers.e),
                "d": integer_bytes(private.d), "p": integer_bytes(private.p), "q": integer_bytes(private.q),
                "dp": integer_bytes(private.dmp1), "dq": integer_bytes(private.dmq1),
                "qi": integer_bytes(private.iqmp)}
    raw = serialization.Encoding.Raw
    if isinstance(material, (ed25519.Ed25519PrivateKey, x25519.X25519PrivateKey)):
        return {"x": material.public_key().public_bytes(raw, serialization.PublicFormat.Raw),
                "d": material.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())}
    return {"x": material.public_bytes(raw, serialization.PublicFormat.Raw)}
