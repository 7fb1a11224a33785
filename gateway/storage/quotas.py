"""Per-tenant KV quotas: how many keys and bytes a tenant's functions may keep, together."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KVQuotas:
    """``max_keys`` live entries and ``max_bytes`` of keys plus values (UTF-8 key bytes + value
    bytes), summed over all the tenant's functions; expired entries do not count."""

    max_keys: int = 10_000
    max_bytes: int = 64 * 1024 * 1024
