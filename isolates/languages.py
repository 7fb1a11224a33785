"""The one table of guest languages: names, aliases, file suffixes, and how each becomes a Program."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from isolates.errors import InvalidCode


class ProgramKind(Enum):
    """What a language's code becomes: a core module (the wasmtask ABI) or a component (its WIT world)."""

    MODULE = "module"
    COMPONENT = "component"


@dataclass(frozen=True)
class Language:
    name: str
    aliases: tuple[str, ...]
    suffixes: tuple[str, ...]  # of source files (the CLI picks a language by them)
    kind: ProgramKind
    compiled: bool  # built from source at deploy time by an ``isolates.compiler.Compiler``


LANGUAGES: dict[str, Language] = {
    language.name: language
    for language in (
        Language("javascript", ("js",), (".js", ".mjs", ".cjs"), ProgramKind.MODULE, compiled=False),
        Language("wasm", ("wat",), (".wasm", ".wat"), ProgramKind.MODULE, compiled=False),
        Language("c", (), (".c",), ProgramKind.MODULE, compiled=True),
        Language("zig", (), (".zig",), ProgramKind.MODULE, compiled=True),
        Language("rust", ("rs",), (".rs",), ProgramKind.MODULE, compiled=True),
        Language("assemblyscript", ("as",), (".ts",), ProgramKind.MODULE, compiled=True),
        Language("python", ("py",), (".py",), ProgramKind.COMPONENT, compiled=True),
    )
}
_BY_NAME_OR_ALIAS = {alias: language for language in LANGUAGES.values() for alias in (language.name, *language.aliases)}
_BY_SUFFIX = {suffix: language for language in LANGUAGES.values() for suffix in language.suffixes}
NAMES_AND_ALIASES = tuple(sorted(_BY_NAME_OR_ALIAS))


def language(name: str) -> Language:
    """The language called ``name`` (or an alias of it, any case); ``InvalidCode`` if none."""
    found = _BY_NAME_OR_ALIAS.get(name.lower()) if isinstance(name, str) else None
    if found is None:
        raise InvalidCode(f"unknown language {name!r}; known: {', '.join(NAMES_AND_ALIASES)}")
    return found


def normalize_language(name: str) -> str:
    return language(name).name


def language_for_file(filename: str, default: str = "javascript") -> str:
    """The language of a source file, by its suffix."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    found = _BY_SUFFIX.get(suffix)
    return found.name if found else default
