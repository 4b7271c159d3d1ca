import hashlib
import io
import os
import pickle
import tarfile
import zipfile

import numpy as np
import pytest

from practica.data.store import (
    Download,
    cache_dir,
    data_roots,
    download,
    restricted_loads,
    safe_extract,
)
from practica.errors import DataError

from .formats import chained_symlink_tar, malicious_pickle, tar_with_member


def test_data_root_order(tmp_path, monkeypatch):
    monkeypatch.setenv("PRACTICA_DATA", str(tmp_path / "env"))
    roots = data_roots(tmp_path / "flag")
    assert roots == [tmp_path / "flag", tmp_path / "env", cache_dir()]
    monkeypatch.delenv("PRACTICA_DATA")
    assert data_roots() == [cache_dir()]
    assert cache_dir() == tmp_path / "cache"


def test_restricted_unpickler_accepts_plain_data_and_arrays():
    data = {"data": np.arange(6, dtype=np.uint8).reshape(2, 3), "labels": [1, 2],
            b"raw": "text"}
    for protocol in (2, 4):
        out = restricted_loads(pickle.dumps(data, protocol=protocol))
        assert out["labels"] == [1, 2]
        np.testing.assert_array_equal(out["data"], data["data"])


def test_restricted_unpickler_refuses_code_execution(tmp_path):
    marker = "/tmp/practica-pwned"
    if os.path.exists(marker):
        os.remove(marker)
    with pytest.raises(DataError, match="refusing to unpickle posix.system"):
        restricted_loads(malicious_pickle())
    assert not os.path.exists(marker)


def test_restricted_unpickler_refuses_arbitrary_classes():
    payload = pickle.dumps({"x": io.BytesIO(b"")})
    with pytest.raises(DataError, match="refusing to unpickle _io.BytesIO"):
        restricted_loads(payload)


def test_garbage_pickle_is_a_data_error():
    with pytest.raises(DataError, match="not a valid pickle"):
        restricted_loads(b"\x80\x02garbage")


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "ok/../../evil.txt"])
def test_tar_traversal_is_refused(tmp_path, name):
    archive = tar_with_member(tmp_path / "a.tar", name)
    with pytest.raises(DataError, match="refusing to extract"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "inside.txt"])
def test_tar_links_are_refused_before_anything_is_written(tmp_path, target):
    archive = tmp_path / "s.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("first.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
        link = tarfile.TarInfo("link")
        link.type = tarfile.SYMTYPE
        link.linkname = target
        tf.addfile(link)
    with pytest.raises(DataError, match="symbolic link"):
        safe_extract(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # refused before the first member


def test_tar_hard_links_are_refused(tmp_path):
    archive = tar_with_member(tmp_path / "h.tar", "data.txt")
    with tarfile.open(archive, "a") as tf:
        link = tarfile.TarInfo("hard")
        link.type = tarfile.LNKTYPE
        link.linkname = "data.txt"
        tf.addfile(link)
    with pytest.raises(DataError, match="hard link"):
        safe_extract(archive, tmp_path / "out")


def test_chained_symlink_escape_writes_nothing_outside(tmp_path):
    """CVE-2025-4517's pattern: lexical checks pass, the real file system escapes."""
    archive = chained_symlink_tar(tmp_path / "evil.tar")
    (tmp_path / "victim").write_text("original\n")
    dest = tmp_path / "cache" / "deep"
    with pytest.raises(DataError, match="symbolic link"):
        safe_extract(archive, dest)
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "cache" / "pwned").exists()
    assert (tmp_path / "victim").read_text() == "original\n"
    assert list(dest.iterdir()) == []


def test_a_symlink_planted_in_the_destination_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "folder").symlink_to(outside)
    archive = tar_with_member(tmp_path / "a.tar", "folder/file.txt", b"hello")
    with pytest.raises(DataError, match="not a folder"):
        safe_extract(archive, dest)
    assert list(outside.iterdir()) == []


def test_zip_symlinks_and_devices_are_refused(tmp_path):
    for mode, message in ((0o120777, "symbolic link"), (0o020644, "not a regular file")):
        archive = tmp_path / f"{mode}.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            info = zipfile.ZipInfo("member")
            info.external_attr = mode << 16
            zf.writestr(info, "/etc/passwd")
        with pytest.raises(DataError, match=message):
            safe_extract(archive, tmp_path / f"out{mode}")


@pytest.mark.parametrize("mode", ["w:xz", "w:gz", "w:bz2", "w"])
def test_truncated_or_corrupt_archives_are_one_data_error(tmp_path, mode):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "big.bin").write_bytes(np.random.default_rng(0).bytes(200_000))
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, mode) as tf:
        tf.add(folder, arcname="src")
    raw = archive.read_bytes()
    archive.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="truncated or corrupt|not a readable"):
        safe_extract(archive, tmp_path / "t")
    flipped = bytearray(raw)
    for i in range(len(raw) // 3, len(raw) // 3 + 64):
        flipped[i] ^= 0xFF
    archive.write_bytes(bytes(flipped))
    try:  # an uncompressed tar has no checksum over file data: a flip may go unseen
        safe_extract(archive, tmp_path / "f")
    except DataError as exc:
        assert "\n" not in str(exc)


def test_tar_device_is_refused(tmp_path):
    archive = tmp_path / "dev.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("dev")
        info.type = tarfile.CHRTYPE
        tf.addfile(info)
    with pytest.raises(DataError, match="not a regular file"):
        safe_extract(archive, tmp_path / "out")


def test_zip_traversal_is_refused(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../evil.txt", "x")
    with pytest.raises(DataError, match="refusing to extract"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_good_archives_extract(tmp_path):
    tar = tar_with_member(tmp_path / "a.tar", "folder/file.txt", b"hello")
    safe_extract(tar, tmp_path / "t")
    assert (tmp_path / "t" / "folder" / "file.txt").read_bytes() == b"hello"
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("dir/x.txt", "zip")
    safe_extract(archive, tmp_path / "z")
    assert (tmp_path / "z" / "dir" / "x.txt").read_text() == "zip"


def test_not_an_archive(tmp_path):
    path = tmp_path / "x.tar"
    path.write_bytes(b"not an archive at all")
    with pytest.raises(DataError, match="not a readable tar or zip"):
        safe_extract(path, tmp_path / "out")


def test_download_verifies_checksum(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload")
    md5 = hashlib.md5(b"payload").hexdigest()
    good = Download(src.as_uri(), "file.bin", md5=md5)
    out = download(good, tmp_path / "dl", progress=False)
    assert out.read_bytes() == b"payload"
    bad = Download(src.as_uri(), "other.bin", md5="0" * 32)
    with pytest.raises(DataError, match="checksum mismatch"):
        download(bad, tmp_path / "dl", progress=False)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["file.bin"]


def test_download_failure_says_what_to_do(tmp_path):
    item = Download((tmp_path / "nowhere.bin").as_uri(), "nowhere.bin", md5="0" * 32)
    with pytest.raises(DataError, match="could not download .* copy nowhere.bin into"):
        download(item, tmp_path / "dl", progress=False)
