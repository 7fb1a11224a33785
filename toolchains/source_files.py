"""A JavaScript function of several files: its paths checked, its archives unpacked, its stored form.

A deploy may send a map of files (``{"files": {"index.js": ..., "lib/util.js": ...},
"entry": "index.js"}``) or a zip or tar archive; ``SourceFiles`` is that tree once
checked. Every path is relative, normalized and plain: no ``..``, no absolute paths,
no backslashes, no ``node_modules`` (packages come from the platform's npm set,
toolchains/bundler.py); only regular UTF-8 text files, bounded in count and size
(``SourceLimits``). Archives are read in memory, each member's size bounded before it
is read (no zip bomb, nothing written to disk); links, devices and encrypted members
are refused.

The registry stores a function's code as bytes: a tree is stored as ``MAGIC`` and a
canonical JSON document (``encode``/``decode``). ``MAGIC`` starts with a NUL byte, which
no JavaScript source can start with, so one-file functions keep their plain source.
"""

from __future__ import annotations

import io
import json
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

MAGIC = b"\0wasmtask-files/1\n"

# Archive members that packing tools add and nobody means to deploy.
_JUNK_DIRECTORIES = ("__MACOSX",)
_JUNK_FILES = (".DS_Store",)
_PATH_PART = re.compile(r"^[A-Za-z0-9_@+][A-Za-z0-9._@+-]*$")
# The entry when none is named: the first of these the tree has.
ENTRY_CANDIDATES = ("index.js", "index.mjs", "index.cjs", "index.ts", "worker.js", "worker.ts",
                    "src/index.js", "src/index.mjs", "src/index.ts", "src/worker.js", "src/worker.ts")
CODE_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")

ARCHIVE_MEDIA_TYPES = {
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/x-tar": "tar",
    "application/gzip": "tar.gz",
    "application/x-gzip": "tar.gz",
    "application/x-compressed-tar": "tar.gz",
}


class SourceFilesError(ValueError):
    """The files or the archive break a rule; the message names the path and the rule."""


@dataclass(frozen=True)
class SourceLimits:
    """What one deploy's tree may hold.

    max_files         files in the tree (directories do not count).
    max_file_bytes    one file, unpacked (bytes).
    max_total_bytes   all files together, unpacked (bytes): an archive that unpacks to more is refused.
    max_path_chars    one path, ``lib/util.js`` (characters).
    max_depth         directories above a file (``a/b/c.js`` is 2).
    """

    max_files: int = 256
    max_file_bytes: int = 2 * 1024 * 1024
    max_total_bytes: int = 8 * 1024 * 1024
    max_path_chars: int = 200
    max_depth: int = 16


LIMITS = SourceLimits()


@dataclass(frozen=True)
class SourceFiles:
    """A checked tree of source files (path -> text) and the file the function starts from."""

    entry: str
    files: Mapping[str, str]

    def encode(self) -> bytes:
        """The stored form: ``MAGIC`` + canonical JSON (sorted paths), so equal trees store equal bytes."""
        document = {"entry": self.entry, "files": dict(sorted(self.files.items()))}
        return MAGIC + json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @staticmethod
    def decode(code: bytes) -> SourceFiles | None:
        """The tree stored in ``code``, or None when ``code`` is one plain source file. Its paths are
        checked again (SourceFilesError): what reaches a disk never depends on how it was stored."""
        if not code.startswith(MAGIC):
            return None
        try:
            document = json.loads(code[len(MAGIC):])
            entry, files = document["entry"], document["files"]
        except (ValueError, KeyError, TypeError):
            raise SourceFilesError("the stored files are damaged") from None
        if not isinstance(files, dict) or not all(isinstance(text, str) for text in files.values()):
            raise SourceFilesError("the stored files are damaged")
        if any(check_path(path) != path for path in files) or entry not in files:
            raise SourceFilesError("the stored files are damaged")
        return SourceFiles(entry=entry, files=files)


def check_path(name: str, limits: SourceLimits = LIMITS) -> str:
    """``name`` as a relative POSIX path inside the tree (a leading ``./`` dropped), or SourceFilesError."""
    shown = repr(name[:80])
    if not name:
        raise SourceFilesError("a file has an empty path")
    if len(name) > limits.max_path_chars:
        raise SourceFilesError(f"path {shown}... is over {limits.max_path_chars} characters")
    if "\\" in name or any(ord(char) < 0x20 or ord(char) == 0x7F for char in name):
        raise SourceFilesError(f"path {shown}: use '/' between directories; no backslashes or control characters")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise SourceFilesError(f"path {shown} is absolute: paths are relative to the function's root")
    while name.startswith("./"):
        name = name[2:]
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise SourceFilesError(f"path {shown} is not a plain relative path (no '..', '.', or '//')")
    if "node_modules" in parts:
        raise SourceFilesError(f"path {shown}: no node_modules in a deploy; npm packages come from the "
                               "platform's set (see the README, 'npm packages')")
    bad = next((part for part in parts if not _PATH_PART.fullmatch(part)), None)
    if bad is not None:
        raise SourceFilesError(f"path {shown}: {bad[:40]!r} is not a plain name (letters, digits, '.', '_', '-', "
                               "'@', '+')")
    if len(parts) - 1 > limits.max_depth:
        raise SourceFilesError(f"path {shown} is more than {limits.max_depth} directories deep")
    return "/".join(parts)


def source_files(files: Mapping[str, str | bytes], entry: str | None = None, *, limits: SourceLimits = LIMITS,
                 strip_common_directory: bool = False) -> SourceFiles:
    """Check ``files`` (path -> text or UTF-8 bytes) and pick the entry; SourceFilesError when a rule is broken.

    ``strip_common_directory``: when every file is inside one top directory (``myfn/index.js``,
    as many tools pack a folder), drop it.
    """
    if not files:
        raise SourceFilesError("no files: send at least the entry file")
    if len(files) > limits.max_files:
        raise SourceFilesError(f"{len(files)} files: at most {limits.max_files}")
    checked: dict[str, str] = {}
    total = 0
    for name, content in files.items():
        if not isinstance(name, str):
            raise SourceFilesError("file paths must be strings")
        path = check_path(name, limits)
        if path in checked:
            raise SourceFilesError(f"path {path!r} appears twice")
        try:
            text = content.decode("utf-8") if isinstance(content, bytes) else content
            size = len(content) if isinstance(content, bytes) else len(content.encode("utf-8"))
        except UnicodeError:  # bytes that are not UTF-8, or a str with a lone surrogate
            raise SourceFilesError(f"{path} is not UTF-8 text (binary files are not supported)") from None
        if size > limits.max_file_bytes:
            raise SourceFilesError(f"{path}: {size:,} bytes, over the {limits.max_file_bytes:,} bytes a file may have")
        total += size
        if total > limits.max_total_bytes:
            raise SourceFilesError(f"the files add up to over {limits.max_total_bytes:,} bytes")
        checked[path] = text
    if strip_common_directory:
        checked = _without_common_directory(checked)
    return SourceFiles(entry=_entry(checked, entry, limits), files=checked)


def _without_common_directory(files: dict[str, str]) -> dict[str, str]:
    tops = {path.split("/", 1)[0] for path in files}
    if len(tops) != 1 or any("/" not in path for path in files):
        return files
    return {path.split("/", 1)[1]: text for path, text in files.items()}


def _entry(files: Mapping[str, str], entry: str | None, limits: SourceLimits) -> str:
    if entry is not None:
        if not isinstance(entry, str):
            raise SourceFilesError("entry must be a path (a string), e.g. \"index.js\"")
        path = check_path(entry, limits)
        if path not in files:
            raise SourceFilesError(f"entry {path!r} is not among the files ({_listing(files)})")
        return path
    main = _package_main(files)
    if main is not None:
        return main
    found = next((name for name in ENTRY_CANDIDATES if name in files), None)
    if found is not None:
        return found
    code = [path for path in files if path.endswith(CODE_SUFFIXES)]
    if len(code) == 1:
        return code[0]
    raise SourceFilesError(f"which file does the function start from? name it with \"entry\", or \"main\" in a "
                           f"package.json, or call it index.js (files: {_listing(files)})")


def _package_main(files: Mapping[str, str]) -> str | None:
    """The entry a package.json at the root names ("module", then "main"), when it is among the files."""
    if "package.json" not in files:
        return None
    try:
        package = json.loads(files["package.json"])
    except ValueError:
        raise SourceFilesError("package.json is not valid JSON") from None
    if not isinstance(package, dict):
        return None
    for field in ("module", "main"):
        value = package.get(field)
        if isinstance(value, str):
            try:
                path = check_path(value)
            except SourceFilesError:
                continue
            if path in files:
                return path
    return None


def _listing(files: Mapping[str, str]) -> str:
    names = sorted(files)
    return ", ".join(names[:10]) + (f", ... ({len(names) - 10} more)" if len(names) > 10 else "")


# archives


def unpack_archive(data: bytes, kind: str, limits: SourceLimits = LIMITS) -> dict[str, bytes]:
    """The regular files of a ``zip``, ``tar`` or ``tar.gz`` archive (path -> bytes), read in memory.

    Raises SourceFilesError for a damaged archive, a link or device, an encrypted member,
    or more files or bytes than ``limits`` allow; paths are checked by ``source_files``.
    """
    if kind == "zip":
        return _unpack_zip(data, limits)
    if kind == "tar.gz":
        data = _gunzip(data, limits)
        kind = "tar"
    if kind == "tar":
        return _unpack_tar(data, limits)
    raise SourceFilesError(f"unknown archive kind {kind!r}")


def _skipped(name: str) -> bool:
    parts = name.strip("/").split("/")
    return parts[0] in _JUNK_DIRECTORIES or parts[-1] in _JUNK_FILES


class _Budget:
    """Counts files and unpacked bytes across an archive's members."""

    def __init__(self, limits: SourceLimits) -> None:
        self.limits = limits
        self.files = 0
        self.total_bytes = 0

    def take(self, name: str, size: int) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise SourceFilesError(f"the archive has over {self.limits.max_files} files")
        if size > self.limits.max_file_bytes:
            raise SourceFilesError(f"{name[:80]}: {size:,} bytes, over the {self.limits.max_file_bytes:,} bytes a "
                                   "file may have")
        self.total_bytes += size
        if self.total_bytes > self.limits.max_total_bytes:
            raise SourceFilesError(f"the archive unpacks to over {self.limits.max_total_bytes:,} bytes")


def _unpack_zip(data: bytes, limits: SourceLimits) -> dict[str, bytes]:
    budget = _Budget(limits)
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.is_dir() or _skipped(info.filename):
                    continue
                kind = stat.S_IFMT(info.external_attr >> 16)  # Unix file type bits, 0 when the packer set none
                if kind and kind != stat.S_IFREG:
                    raise SourceFilesError(f"{info.filename[:80]}: only regular files (no links or devices)")
                if info.flag_bits & 0x1:
                    raise SourceFilesError(f"{info.filename[:80]} is encrypted")
                budget.take(info.filename, info.file_size)
                with archive.open(info) as member:
                    content = member.read(info.file_size + 1)  # never more than the header promised, plus one
                if len(content) != info.file_size:
                    raise SourceFilesError(f"{info.filename[:80]}: its size does not match the archive's header")
                if info.filename in files:
                    raise SourceFilesError(f"path {info.filename[:80]!r} appears twice")
                files[info.filename] = content
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceFilesError(f"not a valid zip archive: {exc}") from None
    except NotImplementedError as exc:  # a compression method zipfile lacks
        raise SourceFilesError(f"the zip archive uses what is not supported: {exc}") from None
    return files


def _gunzip(data: bytes, limits: SourceLimits) -> bytes:
    # a tar adds a 512-byte header per member (two with long names) and 1 KiB at the end
    cap = limits.max_total_bytes + 1024 * (limits.max_files + 4)
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, cap + 1)
    except zlib.error as exc:
        raise SourceFilesError(f"not a valid gzip stream: {exc}") from None
    if len(out) > cap:
        raise SourceFilesError(f"the archive unpacks to over {limits.max_total_bytes:,} bytes")
    return out


def _unpack_tar(data: bytes, limits: SourceLimits) -> dict[str, bytes]:
    budget = _Budget(limits)
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive:
                if member.isdir() or _skipped(member.name):
                    continue
                if not member.isreg():
                    raise SourceFilesError(f"{member.name[:80]}: only regular files (no links or devices)")
                budget.take(member.name, member.size)
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise SourceFilesError(f"{member.name[:80]}: cannot be read")
                if member.name in files:
                    raise SourceFilesError(f"path {member.name[:80]!r} appears twice")
                files[member.name] = extracted.read(member.size)
    except tarfile.TarError as exc:
        raise SourceFilesError(f"not a valid tar archive: {exc}") from None
    return files
