"""A deploy's tree of JavaScript files: paths, limits, archives, the entry, the stored form. No esbuild needed."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

import pytest

from toolchains.source_files import (
    MAGIC,
    SourceFiles,
    SourceFilesError,
    SourceLimits,
    check_path,
    source_files,
    unpack_archive,
)


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_of(files: dict[str, bytes], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("path", [
    "../index.js", "lib/../../index.js", "/etc/passwd", "C:/x.js", "lib\\x.js", "a//b.js", "lib/./x.js",
    "node_modules/zod/index.js", "x\0.js", "",
])
def test_a_path_that_could_leave_the_tree_is_refused(path: str) -> None:
    with pytest.raises(SourceFilesError):
        check_path(path)


def test_plain_relative_paths_are_kept_and_a_leading_dot_slash_dropped() -> None:
    assert check_path("lib/util.js") == "lib/util.js"
    assert check_path("./index.js") == "index.js"
    assert check_path("@scope/x-1.0.js") == "@scope/x-1.0.js"


def test_the_entry_is_named_or_found() -> None:
    assert source_files({"lib.js": "", "main.js": ""}, "main.js").entry == "main.js"
    assert source_files({"lib/a.js": "", "index.js": ""}).entry == "index.js"
    assert source_files({"src/index.ts": "", "README.md": ""}).entry == "src/index.ts"
    assert source_files({"package.json": '{"main": "app.js"}', "app.js": "", "index.js": ""}).entry == "app.js"
    assert source_files({"only.mjs": "", "notes.txt": ""}).entry == "only.mjs"
    with pytest.raises(SourceFilesError, match="entry"):
        source_files({"a.js": "", "b.js": ""})
    with pytest.raises(SourceFilesError, match="not among the files"):
        source_files({"a.js": ""}, "b.js")


def test_count_size_and_text_are_bounded() -> None:
    limits = SourceLimits(max_files=2, max_file_bytes=10, max_total_bytes=15)
    with pytest.raises(SourceFilesError, match="at most 2"):
        source_files({"a.js": "", "b.js": "", "c.js": ""}, limits=limits)
    with pytest.raises(SourceFilesError, match="over the 10 bytes"):
        source_files({"a.js": "x" * 11}, limits=limits)
    with pytest.raises(SourceFilesError, match="over 15 bytes"):
        source_files({"a.js": "x" * 8, "b.js": "x" * 8}, "a.js", limits=limits)
    with pytest.raises(SourceFilesError, match="not UTF-8"):
        source_files({"index.js": b"\xff\xfe"})
    with pytest.raises(SourceFilesError, match="twice"):
        source_files({"index.js": "", "./index.js": ""})


def test_the_stored_form_round_trips_and_is_checked_again() -> None:
    files = source_files({"index.js": "export default 1;", "lib/data.json": "{\"é\": 1}"})
    stored = files.encode()
    assert stored.startswith(MAGIC) and SourceFiles.decode(stored) == files
    assert SourceFiles.decode(b"export default {};") is None
    forged = MAGIC + b'{"entry": "../x.js", "files": {"../x.js": ""}}'
    with pytest.raises(SourceFilesError):
        SourceFiles.decode(forged)


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz"])
def test_an_archive_unpacks_in_memory_and_its_top_directory_is_dropped(kind: str) -> None:
    members = {"myfn/index.js": b"export default 1;", "myfn/lib/util.js": b"export const x = 1;"}
    data = zip_of(members) if kind == "zip" else tar_of(members, "w:gz" if kind == "tar.gz" else "w")
    files = source_files(unpack_archive(data, kind), strip_common_directory=True)
    assert files.entry == "index.js" and set(files.files) == {"index.js", "lib/util.js"}


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_an_archive_member_outside_the_tree_is_refused(kind: str) -> None:
    members = {"index.js": b"", "../../evil.js": b"boom"}
    data = zip_of(members) if kind == "zip" else tar_of(members)
    with pytest.raises(SourceFilesError, match=r"evil\.js"):
        source_files(unpack_archive(data, kind))


def test_links_in_a_tar_are_refused() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        link = tarfile.TarInfo("index.js")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    with pytest.raises(SourceFilesError, match="regular files"):
        unpack_archive(buffer.getvalue(), "tar")


def test_links_in_a_zip_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("index.js")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(SourceFilesError, match="regular files"):
        unpack_archive(buffer.getvalue(), "zip")


def test_an_archive_that_unpacks_to_too_much_is_refused_before_it_is_read() -> None:
    bomb = zip_of({"index.js": b"\0" * (9 * 1024 * 1024)})  # ~9 KB compressed
    assert len(bomb) < 64 * 1024
    with pytest.raises(SourceFilesError, match="bytes"):
        unpack_archive(bomb, "zip")
    with pytest.raises(SourceFilesError, match="unpacks to over"):
        unpack_archive(tar_of({"index.js": b"\0" * (9 * 1024 * 1024)}, "w:gz"), "tar.gz")


def test_a_damaged_archive_is_refused() -> None:
    with pytest.raises(SourceFilesError, match="zip"):
        unpack_archive(b"PK\x03\x04 not really", "zip")
    with pytest.raises(SourceFilesError, match="gzip"):
        unpack_archive(b"not gzip", "tar.gz")
