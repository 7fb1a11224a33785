"""The host capabilities a guest may import, each written once for core modules and components.

    log          guest lines into the call's log (capabilities/log.py)
    fetch        outbound HTTP behind the egress policy (capabilities/fetch.py)
    clock        wall-clock and monotonic time (capabilities/clock.py)
    random       the host's CSPRNG (capabilities/random.py)
    environment  an empty process: no env, args, files; exit; out-of-memory (capabilities/environment.py)
    crypto       WebCrypto keys and operations for crypto.subtle, fuel-priced (capabilities/crypto.py)
    storage      the function's document and KV namespace, fuel-priced (capabilities/storage.py)

See capabilities/base.py for what a capability is made of.
"""

from isolates.capabilities.base import Capability, ComponentFunction, ModuleFunction
from isolates.capabilities.clock import CLOCK
from isolates.capabilities.crypto import CRYPTO
from isolates.capabilities.environment import ENVIRONMENT, ProcExit
from isolates.capabilities.fetch import FETCH, GuestFetch
from isolates.capabilities.log import LOG, open_log
from isolates.capabilities.random import RANDOM
from isolates.capabilities.storage import STORAGE

CAPABILITIES: tuple[Capability, ...] = (LOG, FETCH, CLOCK, RANDOM, ENVIRONMENT, CRYPTO, STORAGE)

__all__ = [
    "CAPABILITIES",
    "Capability",
    "ComponentFunction",
    "GuestFetch",
    "ModuleFunction",
    "ProcExit",
    "open_log",
]
