"""Make the env file deploy/compose.yaml reads its secrets from: fresh random values, mode 0600.

    python3 deploy/make-env.py                   # writes deploy/wasmtask.env
    python3 deploy/make-env.py /etc/wasmtask.env
    docker compose --env-file deploy/wasmtask.env -f deploy/compose.yaml up -d

Every host of one deployment needs the same values: copy the file, never make
a second one. It refuses to overwrite a file: a new WASMTASK_SECRET_KEY makes
the secrets already stored unreadable (the gateways refuse to start), and the
database password is set when PostgreSQL's volume is first created (see
deploy/README.md, "Secrets", to change either). The values use only characters
that need no quoting in an env file or escaping in a URL. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / "wasmtask.env"


def generate() -> dict[str, str]:
    """The five values: the gateways' three keys and the two servers' passwords."""
    return {
        "WASMTASK_ADMIN_KEY": "wt_admin_" + secrets.token_hex(24),
        "WASMTASK_JWT_SECRET": secrets.token_hex(32),
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
