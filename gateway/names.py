"""Tenant and function names: one strict pattern, checked before a name touches a path or a query."""

from __future__ import annotations

import re

from gateway.errors import InvalidRequest

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def check_name(name: str, kind: str = "name") -> str:
    """``name`` if it matches ``NAME_PATTERN``; else ``InvalidRequest`` (so '..', '/', '%' never pass)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        shown = name if isinstance(name, str) and len(name) <= 80 else f"{str(name)[:80]}..."
        raise InvalidRequest(
            f"invalid {kind} {shown!r}: use 1-63 characters from a-z, 0-9 and '-', starting with a letter or digit"
        )
    return name
