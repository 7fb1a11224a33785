"""`python -m guest_sdk.js.build`, also on Debian bookworm's Python 3.11.2.

build.py extracts the pinned quickjs-ng sdist with ``filter="data"`` (PEP 706),
which Python has from 3.11.4 on; Debian's 3.11.2 (the image's Python) lacks
it. Where it is missing, the keyword is dropped: the sdist is checked against
its pinned sha256 first, and build.py extracts only regular files it names.
"""

from __future__ import annotations

import runpy
import tarfile

if not hasattr(tarfile, "data_filter"):
    _extract = tarfile.TarFile.extract

    def _extract_without_filter(self, member, path="", set_attrs=True, *, numeric_owner=False, filter=None):  # type: ignore[no-untyped-def]
        return _extract(self, member, path, set_attrs, numeric_owner=numeric_owner)

    tarfile.TarFile.extract = _extract_without_filter  # type: ignore[method-assign]

runpy.run_module("guest_sdk.js.build", run_name="__main__", alter_sys=True)
