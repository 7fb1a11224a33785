"""Where in the user's file an error points: file, line and column, from a JS stack or a compiler's output.

Every guest language names the source file in its own way; the file name is the
user's (``worker.js``, ``hello.c``), passed through ``isolates.prepare`` to the
JS runtime and mapped back from the compilers' own (``main.c``) by toolchains::

    JavaScript     at worker.js:4:1            at handler (worker.js:3:9)
    C, Zig         hello.c:2:9: error: ...
    Rust           --> hello.rs:3:5
    AssemblyScript in hello.ts(3,5)
    Python         File "hello.py", line 3     (no column)

The first place that names the file wins: a syntax error, the failing line of a
build, or the innermost frame of the user's code in a stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from isolates.errors import IsolateError

# The source's name when the user gave none: what isolates and toolchains call it.
DEFAULT_FILENAMES = {
    "javascript": "index.js",
    "c": "main.c",
    "zig": "main.zig",
    "rust": "main.rs",
    "assemblyscript": "index.ts",
    "python": "guest_function.py",
}
# A file name a deploy may give: a plain name, no directories.
FILENAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class SourceLocation:
    """A place in a source file: ``line`` and ``column`` count from 1; ``column`` None when unknown."""

    file: str
    line: int
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column is not None else "")

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column}


def default_filename(language: str) -> str:
    return DEFAULT_FILENAMES.get(language, "")


def locate_in(text: str, filename: str) -> SourceLocation | None:
    """The first location in ``text`` that names ``filename``."""
    if not filename or not text:
        return None
    name = re.escape(filename)
    patterns = (
        rf"(?<![\w./-]){name}:(\d+):(\d+)",  # JS stacks, C, Zig, Rust
        rf"(?<![\w./-]){name}\((\d+),(\d+)\)",  # AssemblyScript
        rf"File \"(?:[^\"]*/)?{name}\", line (\d+)()",  # Python
    )
    found: list[tuple[int, SourceLocation]] = []
    for pattern in patterns:
        match = re.search(pattern, text)
        if match:
            column = int(match.group(2)) if match.group(2) else None
            found.append((match.start(), SourceLocation(filename, int(match.group(1)), column)))
    return min(found, key=lambda item: item[0])[1] if found else None


def locate(error: IsolateError, filename: str) -> SourceLocation | None:
    """Where ``error`` (a syntax error, a build failure, a throw) points in ``filename``."""
    for text in (error.stack, error.message):
        location = locate_in(text or "", filename)
        if location is not None:
            return location
    return None
