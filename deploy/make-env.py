"""Make the env file deploy/compose.yaml reads its secrets from: fresh random values, mode 0600.

    python3 deploy/make-env.py                   # writes deploy/wasmtask.env
    python3 deploy/make-env.py /etc/wasmtask.env
    docker compose --env-file deploy/wasmtask.env -f deploy/compose.yaml up -d

Every host of one deployment needs the same values: copy the file, never make
a second one. It refuses to overwrite a file: a new WASMTASK_SECRET_KEY makes
the secrets already stored unreadable (the gateways refuse to start), and the
database password is set when PostgreSQL's volume is first created (see
deploy/README.md, "Secrets", to change either). The values use only characters
that need no quoting in an env file or escaping in a URL. Standard library only:
the Ed25519 public key is derived here as RFC 8032 (section 5.1.5) says.

Which container gets what (deploy/compose.yaml): the control plane the signing key
and the admin key's SHA-256; the gateways (where guest code runs) the public key,
the admin key's SHA-256 and the secrets' key. The admin key itself goes to no
container: it is for the operator's CLI.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / "wasmtask.env"


# Ed25519 (RFC 8032): the curve's prime, its d, and the base point, in extended coordinates
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_GY = 4 * pow(5, _P - 2, _P) % _P
_GX_SQUARED = (_GY * _GY - 1) * pow(_D * _GY * _GY + 1, _P - 2, _P) % _P
_GX = pow(_GX_SQUARED, (_P + 3) // 8, _P)
_GX = _GX if (_GX * _GX - _GX_SQUARED) % _P == 0 else _GX * pow(2, (_P - 1) // 4, _P) % _P
_GX = _P - _GX if _GX & 1 else _GX
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _add(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    e, f = (a[1] - a[0]) * (b[1] - b[0]) % _P, (a[1] + a[0]) * (b[1] + b[0]) % _P
    g, h = 2 * a[3] * b[3] * _D % _P, 2 * a[2] * b[2] % _P
    e, f, g, h = f - e, h - g, h + g, f + e
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def ed25519_public_key(seed: bytes) -> bytes:
    """The public key of a 32-byte Ed25519 private key (its seed)."""
    digest = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(digest[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    point, result = _G, (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point, scalar = _add(point, point), scalar >> 1
    z_inverse = pow(result[2], _P - 2, _P)
    x, y = result[0] * z_inverse % _P, result[1] * z_inverse % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def generate() -> dict[str, str]:
    """The values: the admin key (for the CLI) and its SHA-256, the token signing key and its public half,
    the secrets' key, and the two servers' passwords."""
    admin_key = "wt_admin_" + secrets.token_hex(24)
    seed = os.urandom(32)
    return {
        "WASMTASK_ADMIN_KEY": admin_key,
        "WASMTASK_ADMIN_KEY_SHA256": hashlib.sha256(admin_key.encode()).hexdigest(),
        "WASMTASK_SIGNING_KEY": _b64(seed),
        "WASMTASK_TOKEN_PUBLIC_KEY": _b64(ed25519_public_key(seed)),
        # a Fernet key: 32 random bytes, url-safe base64 (what Fernet.generate_key() makes)
        "WASMTASK_SECRET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "WASMTASK_POSTGRES_PASSWORD": secrets.token_hex(24),
        "WASMTASK_REDIS_PASSWORD": secrets.token_hex(24),
    }


def render(values: dict[str, str]) -> str:
    lines = [
        "# wasmtask secrets for deploy/compose.yaml (made by deploy/make-env.py). Keep it out of git",
        "# (deploy/.gitignore) and give every host of the deployment this same file.",
        *(f"{name}={value}" for name, value in values.items()),
    ]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600; FileExistsError if it is there already."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the secrets env file for deploy/compose.yaml.")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT, help=f"default: {DEFAULT}")
    args = parser.parse_args(argv)
    try:
        write(args.path, render(generate()))
    except FileExistsError:
        print(f"make-env: {args.path} exists; not replacing it (see deploy/README.md, Secrets)", file=sys.stderr)
        return 1
    print(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
