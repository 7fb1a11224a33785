"""Reading a deploy (or an ad-hoc run) from its HTTP body: raw source, an archive of JavaScript files, or a
JSON object, checked field by field.

JSON shape::

    {"code": "...",              # source text (or "code_base64" for a .wasm binary)
     "files": {"index.js": "...", "lib/util.js": "..."},  # JavaScript of several files, instead of "code"
     "entry": "index.js",        # with "files": the file the function starts from (default: see below)
     "language": "javascript",   # or wasm, c, zig, rust, assemblyscript, python (isolates.LANGUAGES)
     "limits": {"fuel": ..., "memory_bytes": ..., "wall_clock_ms": ...},
     "secrets": {"API_KEY": "..."},  # deploy only; omitted: keep the current ones
     "allowed_hosts": ["https://api.example.com"],
     "env": {"MODE": "prod"},        # plain (non-secret) values
     "auth": "public" | "token",
     "filename": "worker.js"}      # the user's name for the file: errors and stack traces name it

A JavaScript function of several files comes as ``files`` or as the body itself, a zip
or tar archive (application/zip, application/x-tar, application/gzip for .tar.gz). Its
paths and sizes are checked by toolchains/source_files.py (relative paths only, no
``..``, no links, no node_modules; at most 256 files and 8 MiB unpacked); the entry is
``entry``, else package.json's "module" or "main", else index.js (or src/index.js, ...).
The tree is stored as the function's code and bundled with esbuild at prepare time
(toolchains/bundler.py), like a compiled language's source.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from gateway.diagnostics import FILENAME
from gateway.errors import InvalidRequest, UnsupportedMediaType
from gateway.http import parse_json_object
from gateway.registry import AUTH_MODES
from host_api.egress import EgressPolicy, decide, parse_url
from isolates import normalize_language
from isolates.languages import NAMES_AND_ALIASES
from isolates.limits import Limits
from toolchains.source_files import ARCHIVE_MEDIA_TYPES, SourceFilesError, source_files, unpack_archive
from toolchains.source_files import MAGIC as STORED_FILES_MAGIC

SOURCE_MEDIA_TYPES = {
    "": "javascript",
    "text/plain": "javascript",
    "text/javascript": "javascript",
    "application/javascript": "javascript",
    "application/x-javascript": "javascript",
    "application/ecmascript": "javascript",
    "application/wasm": "wasm",
}
JSON_MEDIA_TYPES = ("application/json",)

SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_VARIABLES = 64  # secrets, and env entries, per function
MAX_VALUE_BYTES = 4096  # one secret or env value
MAX_ALLOWED_HOSTS = 32


@dataclass(frozen=True)
class CodeRequest:
    """A body parsed: the code and, from JSON, the other fields (``None`` where absent)."""

    language: str
    code: bytes
    fields: dict[str, Any]


def read_code_request(media_type: str, body: bytes, allowed_fields: frozenset[str]) -> CodeRequest:
    if media_type in SOURCE_MEDIA_TYPES:
        if not body:
            raise InvalidRequest("the body is empty; send the function's code")
        return CodeRequest(SOURCE_MEDIA_TYPES[media_type], _plain_source(body), {})
    if media_type in ARCHIVE_MEDIA_TYPES:
        return CodeRequest("javascript", _archive_code(body, ARCHIVE_MEDIA_TYPES[media_type]), {})
    if media_type not in JSON_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"content-type {media_type!r} is not accepted: send the code as text/javascript or"
            " application/wasm, JavaScript files as application/zip, application/x-tar or application/gzip,"
            " or a JSON object with 'code' or 'files'"
        )
    data = parse_json_object(body)
    unknown = set(data) - allowed_fields - {"code", "code_base64", "language", "files", "entry"}
    if unknown:
        raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    language = data.get("language", "javascript")
    if not isinstance(language, str) or language.lower() not in NAMES_AND_ALIASES:
        raise InvalidRequest(f"language must be one of {', '.join(NAMES_AND_ALIASES)}")
    language = normalize_language(language)
    if "files" in data:
        return CodeRequest(language, _files_code(data, language), data)
    if "entry" in data:
        raise InvalidRequest("'entry' names one of 'files'; send 'files' too")
    return CodeRequest(language, _plain_source(_code(data)), data)


def _plain_source(code: bytes) -> bytes:
    """One source file: never what looks like a stored tree of files (those come checked, from 'files')."""
    if code.startswith(STORED_FILES_MAGIC):
        raise InvalidRequest("the code starts with a NUL byte; send source text, or JavaScript files as 'files'")
    return code


def _files_code(data: dict[str, Any], language: str) -> bytes:
    """A JSON map of files (path -> text): checked, then stored as one tree (toolchains/source_files.py)."""
    if language != "javascript":
        raise InvalidRequest("'files' is for JavaScript; other languages deploy one source file as 'code'")
    clashing = sorted({"code", "code_base64", "filename"} & set(data))
    if clashing:
        raise InvalidRequest(f"send either 'files' or {' and '.join(repr(name) for name in clashing)}, not both")
    files = data["files"]
    if not isinstance(files, dict) or not all(isinstance(text, str) for text in files.values()):
        raise InvalidRequest("'files' must be an object of path -> source text, e.g. {\"index.js\": \"...\"}")
    try:
        return source_files(files, data.get("entry")).encode()
    except SourceFilesError as exc:
        raise InvalidRequest(f"files: {exc}") from None


def _archive_code(body: bytes, kind: str) -> bytes:
    """A zip or tar archive of JavaScript files: unpacked in memory, checked, stored as one tree."""
    if not body:
        raise InvalidRequest("the body is empty; send the archive of the function's files")
    try:
        return source_files(unpack_archive(body, kind), strip_common_directory=True).encode()
    except SourceFilesError as exc:
        raise InvalidRequest(f"archive: {exc}") from None


def _code(data: dict[str, Any]) -> bytes:
    if "code_base64" in data:
        try:
            code = base64.b64decode(str(data["code_base64"]), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("code_base64 is not valid base64") from None
    else:
        text = data.get("code")
        if not isinstance(text, str):
            raise InvalidRequest("'code' (a string) or 'code_base64' is required")
        code = text.encode("utf-8")
    if not code:
        raise InvalidRequest("the code is empty")
    return code


def string_map(value: Any, what: str, *, names: re.Pattern[str] | None = SECRET_NAME) -> dict[str, str]:
    """A JSON object of strings: bounded in count and size, names matching ``names``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} must be an object of strings")
    if len(value) > MAX_VARIABLES:
        raise InvalidRequest(f"at most {MAX_VARIABLES} {what}")
    for name, item in value.items():
        if names is not None and not names.fullmatch(name):
            raise InvalidRequest(f"invalid name in {what}: {name[:80]!r} (letters, digits, '_')")
        if not isinstance(item, str):
            raise InvalidRequest(f"{what}: the value of {name!r} must be a string")
        if len(item.encode("utf-8")) > MAX_VALUE_BYTES:
            raise InvalidRequest(f"{what}: the value of {name!r} is over {MAX_VALUE_BYTES} bytes")
    return dict(value)


def allowed_hosts(value: Any, platform_stores: tuple[tuple[str, int], ...] = ()) -> tuple[str, ...]:
    """The function's outbound allow-list, validated with host_api's own parser.

    ``platform_stores`` are the (host, port) of the gateway's own Redis and PostgreSQL:
    guests share the gateway's network, so an entry that would let a function reach
    them is refused (they also require passwords; this is the first wall)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequest("allowed_hosts must be a list of strings")
    if len(value) > MAX_ALLOWED_HOSTS:
        raise InvalidRequest(f"at most {MAX_ALLOWED_HOSTS} allowed_hosts")
    try:
        policy = EgressPolicy.from_strings(value)
    except ValueError as exc:
        raise InvalidRequest(f"allowed_hosts: {exc}") from None
    for host, port in platform_stores:
        literal = f"[{host}]" if ":" in host else host
        for scheme in ("http", "https"):
            url = f"{scheme}://{literal}:{port}/"
            if decide(url, policy, resolver=_no_dns).allowed or policy.matching_rule(parse_url(url)) is not None:
                raise InvalidRequest(f"allowed_hosts may not reach {literal}:{port}: the platform's own data store")
    return tuple(value)


def _no_dns(host: str, port: int) -> list[str]:
    raise OSError("no DNS for this check")


def parse_limits(value: Any, base: Limits, what: str = "limits") -> Limits:
    """Limits from a request field (isolates' one parser), ``InvalidRequest`` when malformed."""
    try:
        return Limits.from_dict(value, base=base)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"invalid {what}: {exc}") from None


def source_filename(value: Any) -> str:
    """The user's name for the source file ("" when not given): a plain file name, no directories."""
    if value is None:
        return ""
    if not isinstance(value, str) or not FILENAME.fullmatch(value):
        raise InvalidRequest("filename must be a plain file name (letters, digits, '.', '_', '-'; no '/'),"
                             " e.g. worker.js")
    return value


def auth_mode(value: Any) -> str:
    if value is None:
        return "public"
    if value not in AUTH_MODES:
        raise InvalidRequest(f"auth must be one of {', '.join(AUTH_MODES)}")
    return str(value)
