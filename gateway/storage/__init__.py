"""Function storage, gateway side: the registry-backed backend of ``host_api.storage`` and its quotas.

    backend.py   RegistryStorage: documents and KV entries in the registry's database
    quotas.py    KVQuotas: keys and bytes per tenant (settings ``kv_max_keys``, ``kv_max_bytes``)

Guests reach it through ``host_api.storage.FunctionStorage`` (built per call by
gateway/calls/invocation.py); owners through gateway/routes/storage.py and
``wasmtask storage`` / ``wasmtask kv``.
"""

from gateway.storage.backend import RegistryStorage
from gateway.storage.quotas import KVQuotas

__all__ = ["KVQuotas", "RegistryStorage"]
