"""The component's app module (componentize-py): the world's ``handle`` export calls the guest's.

``guest_function`` is the deployed source. It is imported here, at build time,
so its top-level code runs once and is part of the component's snapshot.
"""

import guest_function
import wasmtask
import wit_world

_handler = getattr(guest_function, "handle", None)
if not callable(_handler):
    raise TypeError("the function defines no handle(request)")


class WitWorld(wit_world.WitWorld):
    def handle(self, request: str) -> str:
        return wasmtask.run(_handler, request)
