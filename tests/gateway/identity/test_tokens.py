"""Tenant tokens: Ed25519-signed by the control plane, verified with the public key alone."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.errors import InvalidRequest, TokenReissueRequired, TokenRevoked, Unauthorized
from gateway.identity.tokens import TokenSigner, TokenVerifier

PRIVATE_KEY = Ed25519PrivateKey.generate()
SIGNER = TokenSigner(PRIVATE_KEY)


def verifier(cache_size: int = 16) -> TokenVerifier:
    """What a serving process has: the public key only."""
    return TokenVerifier(PRIVATE_KEY.public_key(), cache_size=cache_size)


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": "wasmtask", "ten": "acme", "scopes": ["run"], "iat": now, "exp": now + 60, "jti": "j-1",
            **overrides}


def unsigned(payload: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def test_an_issued_token_verifies_with_the_public_key() -> None:
    token, issued = SIGNER.issue("acme", ["run", "logs"], tenant_id="uid-1", ttl_seconds=60, limits={"fuel": 1000})

    verified = verifier().verify(token)

    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert verified == issued
    assert verified.scopes == {"run", "logs"}
    assert verified.limits is not None and verified.limits.fuel == 1000
    assert len(verified.token_id) == 32  # 128 random bits


def test_every_token_has_its_own_id() -> None:
    ids = {SIGNER.issue("acme", ["run"], tenant_id="uid-1")[1].token_id for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(unsigned(claims()), id="alg-none"),
        pytest.param(jwt.encode(claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA"), id="wrong-key"),
        pytest.param(jwt.encode(claims(exp=int(time.time()) - 10), PRIVATE_KEY, algorithm="EdDSA"), id="expired"),
        pytest.param(jwt.encode({k: v for k, v in claims().items() if k != "exp"}, PRIVATE_KEY, algorithm="EdDSA"),
                     id="no-exp"),
        pytest.param(jwt.encode({k: v for k, v in claims().items() if k != "jti"}, PRIVATE_KEY, algorithm="EdDSA"),
                     id="no-jti"),
        pytest.param(jwt.encode(claims(iss="someone-else"), PRIVATE_KEY, algorithm="EdDSA"), id="wrong-issuer"),
        pytest.param(jwt.encode(claims(ten="../x"), PRIVATE_KEY, algorithm="EdDSA"), id="bad-tenant"),
        pytest.param("not.a.token", id="garbage"),
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        verifier().verify(token)
    assert refused.value.code == "unauthorized"


def test_an_hs256_token_of_an_earlier_wasmtask_must_be_reissued() -> None:
    legacy = jwt.encode(claims(), "the-old-hmac-secret-0123456789abcdef", algorithm="HS256")

    with pytest.raises(TokenReissueRequired) as refused:
        verifier().verify(legacy)

    assert refused.value.code == "token_reissue_required"
    assert "wasmtask token issue" in refused.value.message


def hmac_signed(payload: dict[str, object], secret: bytes, algorithm: str = "HS256") -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(orjson.dumps({'alg': algorithm, 'typ': 'JWT'}))}.{part(orjson.dumps(payload))}"
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[algorithm]
    return f"{signing_input}.{part(hmac.new(secret, signing_input.encode(), digest).digest())}"


def test_the_public_key_cannot_be_used_as_an_hmac_secret() -> None:
    """The classic algorithm confusion: HMAC with what the verifier holds (the public key) as the secret."""
    public_key = PRIVATE_KEY.public_key()
    for secret in (public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
                   public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)):
        for algorithm in ("HS256", "HS512"):
            with pytest.raises(Unauthorized):
                verifier().verify(hmac_signed(claims(), secret, algorithm))


def test_a_tampered_payload_is_refused() -> None:
    token, _ = SIGNER.issue("acme", ["run"], tenant_id="uid-1")
    header, _, signature = token.split(".")
    forged = base64.urlsafe_b64encode(orjson.dumps(claims(ten="other"))).rstrip(b"=").decode()

    with pytest.raises(Unauthorized):
        verifier().verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("scopes", [[], ["root"], ["run", "admin"]])
def test_unknown_scopes_are_refused_at_issue(scopes: list[str]) -> None:
    with pytest.raises(InvalidRequest):
        SIGNER.issue("acme", scopes, tenant_id="uid-1")


def test_a_revoked_token_is_refused_even_when_cached() -> None:
    tokens = verifier()
    token, issued = SIGNER.issue("acme", ["run"], tenant_id="uid-1")
    other, _ = SIGNER.issue("acme", ["run"], tenant_id="uid-1")
    tokens.verify(token)  # now cached

    tokens.set_revoked([issued.token_id])

    with pytest.raises(TokenRevoked):
        tokens.verify(token)
    assert tokens.verify(other).tenant == "acme"
    tokens.set_revoked([])
    assert tokens.verify(token) == issued


def test_a_cached_token_still_expires() -> None:
    tokens = verifier()
    token, issued = SIGNER.issue("acme", ["run"], tenant_id="uid-1", ttl_seconds=5)
    tokens.verify(token)

    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(token, now=issued.expires_at + 1)


def test_the_cache_is_bounded_and_keeps_the_recently_used() -> None:
    tokens = verifier(cache_size=3)
    issued = [SIGNER.issue("acme", ["run"], tenant_id="uid-1")[0] for _ in range(5)]
    for token in issued:
        tokens.verify(token)
    tokens.verify(issued[2])  # used again: the newest

    tokens.verify(SIGNER.issue("acme", ["run"], tenant_id="uid-1")[0])

    cached = list(tokens._cache)
    assert len(cached) == 3
    assert issued[2] in cached and issued[0] not in cached and issued[3] not in cached
