"""host_api.crypto: a call's keys and WebCrypto operations, priced before they run."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from host_api.crypto import (
    FUEL_PER_HASHED_BYTE,
    FUEL_PER_INPUT_BYTE,
    FUEL_PER_OPERATION,
    FUEL_PER_PBKDF2_ITERATION,
    MAX_INPUT_BYTES,
    CryptoSession,
)
from host_api.crypto_keys import CryptoError, integer_bytes


class Meter:
    """A ``charge`` that records the prices and refuses past a budget."""

    def __init__(self, budget: int = 10**12) -> None:
        self.budget = budget
        self.charges: list[int] = []

    def __call__(self, fuel: int) -> None:
        if sum(self.charges) + fuel > self.budget:
            raise RuntimeError("out of fuel")
        self.charges.append(fuel)


def perform(session: CryptoSession, header: dict[str, Any], meter: Meter | None = None,
            **inputs: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    return session.perform(header, inputs, meter or Meter())


def import_raw(session: CryptoSession, name: str, key: bytes, **extra: Any) -> int:
    answer, _ = perform(session, {"op": "importKey", "format": "raw", "algorithm": {"name": name, **extra}},
                        keyData=key)
    return int(answer["handle"])


def test_a_digest_is_priced_by_its_bytes_before_it_runs() -> None:
    meter = Meter()
    _, outputs = perform(CryptoSession(), {"op": "digest", "hash": "SHA-512"}, meter, data=b"x" * 1000)
    assert len(outputs["data"]) == 64
    assert meter.charges == [FUEL_PER_OPERATION + 1000 * FUEL_PER_INPUT_BYTE, 1000 * FUEL_PER_HASHED_BYTE["SHA-512"]]


def test_a_refused_price_stops_the_operation_before_any_work() -> None:
    session = CryptoSession()
    meter = Meter(budget=FUEL_PER_OPERATION + 10)
    with pytest.raises(RuntimeError, match="out of fuel"):
        perform(session, {"op": "generateKey", "algorithm": {"name": "ECDSA", "namedCurve": "P-384"}}, meter)
    assert session._keys == {}


def test_pbkdf2_is_priced_per_iteration_and_a_second_of_work_is_refused() -> None:
    session = CryptoSession()
    handle = import_raw(session, "PBKDF2", b"password")
    meter = Meter()
    header = {"op": "deriveBits", "handle": handle, "length": 256,
              "algorithm": {"name": "PBKDF2", "hash": "SHA-256", "iterations": 1000}}
    perform(session, header, meter, salt=b"salt")
    assert meter.charges[-1] == 1000 * FUEL_PER_PBKDF2_ITERATION["SHA-256"]
    header["algorithm"]["iterations"] = 100_000_000
    with pytest.raises(CryptoError, match="more than a second") as refused:
        perform(session, header, salt=b"salt")
    assert refused.value.name == "OperationError"


def test_more_input_than_the_cap_is_refused_with_quota_exceeded() -> None:
    with pytest.raises(CryptoError) as refused:
        perform(CryptoSession(), {"op": "digest", "hash": "SHA-256"}, data=b"\0" * (MAX_INPUT_BYTES + 1))
    assert refused.value.name == "QuotaExceededError"


def test_a_handle_from_another_session_is_unavailable() -> None:
    handle = import_raw(CryptoSession(), "HMAC", b"key")
    with pytest.raises(CryptoError) as unavailable:
        perform(CryptoSession(), {"op": "sign", "handle": handle, "algorithm": {"name": "HMAC", "hash": "SHA-256"}},
                data=b"")
    assert unavailable.value.name == "KeyUnavailable"


def test_hmac_verify_answers_false_for_a_wrong_signature() -> None:
    session = CryptoSession()
    handle = import_raw(session, "HMAC", b"key")
    header = {"op": "sign", "handle": handle, "algorithm": {"name": "HMAC", "hash": "SHA-256"}}
    _, outputs = perform(session, header, data=b"body")
    verify = {**header, "op": "verify"}
    assert perform(session, verify, signature=outputs["signature"], data=b"body")[0] == {"valid": True}
    assert perform(session, verify, signature=outputs["signature"][:-1] + b"\0", data=b"body")[0] == {"valid": False}


def test_aes_ctr_increments_only_the_counter_bits_and_wraps_them() -> None:
    key = bytes(range(16))
    session = CryptoSession()
    handle = import_raw(session, "AES-CTR", key)
    counter = bytes(15) + b"\xff"  # the low 8 bits are the counter: the next block's counter is 0, not 0x100
    header = {"op": "encrypt", "handle": handle, "algorithm": {"name": "AES-CTR", "length": 8}}
    _, outputs = perform(session, header, data=bytes(32), counter=counter)
    ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    assert outputs["data"] == ecb.update(counter) + ecb.update(bytes(16))
    with pytest.raises(CryptoError, match="repeating"):
        perform(session, header, data=bytes(16 * 257), counter=counter)


def test_an_rsa_private_key_with_inconsistent_crt_values_is_a_data_error() -> None:
    numbers = rsa.generate_private_key(65537, 1024).private_numbers()
    fields = {"n": numbers.public_numbers.n, "e": numbers.public_numbers.e, "d": numbers.d, "p": numbers.p,
              "q": numbers.q, "dp": numbers.dmp1 + 2, "dq": numbers.dmq1, "qi": numbers.iqmp}
    with pytest.raises(CryptoError) as refused:
        perform(CryptoSession(), {"op": "importKey", "format": "jwk", "algorithm": {"name": "RSA-PSS"}},
                **{name: integer_bytes(value) for name, value in fields.items()})
    assert refused.value.name == "DataError"


def test_a_key_of_another_algorithm_is_a_data_error() -> None:
    spki = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(CryptoError) as refused:
        perform(CryptoSession(), {"op": "importKey", "format": "spki",
                                  "algorithm": {"name": "ECDSA", "namedCurve": "P-256"}}, keyData=spki)
    assert refused.value.name == "DataError"


def test_ecdh_refuses_a_public_key_on_another_curve() -> None:
    session = CryptoSession()
    keys = [perform(session, {"op": "generateKey", "algorithm": {"name": "ECDH", "namedCurve": curve}})[0]["keys"]
            for curve in ("P-256", "P-384")]
    header = {"op": "deriveBits", "handle": keys[0][1]["handle"], "length": None,
              "algorithm": {"name": "ECDH", "public": keys[1][0]["handle"]}}
    with pytest.raises(CryptoError) as refused:
        perform(session, header)
    assert refused.value.name == "InvalidAccessError"


def test_a_recipe_recreates_the_same_key_in_another_session() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    header = {"op": "importKey", "format": "pkcs8", "algorithm": {"name": "Ed25519"}, "recipe": True}
    answer, outputs = perform(CryptoSession(), header, keyData=pkcs8)
    assert (answer["type"], answer["recipe"]) == ("private", "pkcs8")
    later = CryptoSession()
    handle = perform(later, {"op": "importKey", "format": answer["recipe"], "algorithm": {"name": "Ed25519"}},
                     keyData=outputs["recipe"])[0]["handle"]
    _, signed = perform(later, {"op": "sign", "handle": handle, "algorithm": {"name": "Ed25519"}}, data=b"m")
    assert signed["signature"] == private.sign(b"m")
