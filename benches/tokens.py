"""What authenticating a request costs a serving process, in CPU per operation (``time.process_time``):

    python -m benches.tokens

an Ed25519 (EdDSA) token verified cold (a cache miss: the signature checked), a cached one, the
HS256 decode of earlier versions for comparison, and the admin key's SHA-256 comparison.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.identity.keys import AdminKey
from gateway.identity.tokens import TokenSigner, TokenVerifier

ROUNDS = 3  # the best of


def cpu_us(operation: Callable[[int], None], count: int) -> float:
    """CPU microseconds per operation, the best of ``ROUNDS`` runs of ``count``."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        operation(count)
        best = min(best, (time.process_time() - started) / count * 1e6)
    return best


def measure() -> dict[str, float]:
    key = Ed25519PrivateKey.generate()
    signer = TokenSigner(key)
    tokens = [signer.issue("acme", ["run"], tenant_id="t")[0] for _ in range(2000)]
    warm = TokenVerifier(key.public_key())
    warm.verify(tokens[0])
    secret = "s" * 48
    legacy = jwt.encode({"iss": "wasmtask", "ten": "acme", "scopes": ["run"], "iat": 1, "exp": 2**31, "jti": "x"},
                        secret, algorithm="HS256")
    admin_key = "wt_admin_" + "k" * 32
    admin = AdminKey.from_plaintext(admin_key)

    def cold(count: int) -> None:
        verifier = TokenVerifier(key.public_key())
        for token in tokens[:count]:
            verifier.verify(token)

    def cached(count: int) -> None:
        for _ in range(count):
            warm.verify(tokens[0])

    def hs256(count: int) -> None:
        for _ in range(count):
            jwt.decode(legacy, secret, algorithms=["HS256"], issuer="wasmtask")

    def admin_compare(count: int) -> None:
        for _ in range(count):
            admin.matches(admin_key)

    return {
        "eddsa_verify_cold_us": cpu_us(cold, len(tokens)),
        "eddsa_verify_cached_us": cpu_us(cached, 20_000),
        "hs256_decode_before_us": cpu_us(hs256, 20_000),
        "admin_key_sha256_compare_us": cpu_us(admin_compare, 50_000),
    }


if __name__ == "__main__":
    for name, value in measure().items():
        print(f"{name:30s} {value:8.1f}")
