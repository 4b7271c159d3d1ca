"""Where data lives, and how it is fetched and opened safely.

Data root resolution (first match wins): the ``--data-dir`` flag, the ``PRACTICA_DATA``
environment variable, then the cache directory (``PRACTICA_CACHE`` or
``~/.cache/practica``), which is also where downloads go. The package never assumes any
other path.

Everything here treats files as untrusted: archives are extracted only when every member
stays inside the target folder, pickles are read with an allow-list unpickler, and
downloads are verified against a published checksum before they are moved into place.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError


def cache_dir() -> Path:
    """The cache folder: ``PRACTICA_CACHE`` or ``~/.cache/practica``."""
    env = os.environ.get("PRACTICA_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "practica"


def data_roots(data_dir: str | Path | None = None) -> list[Path]:
    """The folders searched for data, in order: --data-dir, PRACTICA_DATA, cache."""
    roots: list[Path] = []
    if data_dir:
        roots.append(Path(data_dir).expanduser())
    env = os.environ.get("PRACTICA_DATA")
    if env:
        roots.append(Path(env).expanduser())
    roots.append(cache_dir())
    seen, unique = set(), []
    for root in roots:
        key = str(root.resolve()) if root.exists() else str(root)
        if key not in seen:
            seen.add(key)
            unique.append(root)
    return unique


@dataclass(frozen=True)
class Download:
    """An official download: URL, file name in the cache, and its MD5 or SHA-256."""

    url: str
    filename: str
    md5: str | None = None
    sha256: str | None = None


def file_digest(path: str | Path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_checksum(path: Path, md5: str | None = None, sha256: str | None = None) -> None:
    """Raise DataError unless ``path`` matches the given digest(s)."""
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected:
            actual = file_digest(path, algorithm)
            if actual.lower() != expected.lower():
                raise DataError(f"checksum mismatch for {path.name}: {algorithm} is {actual}, "
                                f"expected {expected}; the file is corrupt or not the official "
                                "one — delete it and fetch it again")


def download(item: Download, dest_dir: Path | None = None, *, progress: bool = True,
             timeout: float = 30.0) -> Path:
    """Download ``item`` into ``dest_dir`` (the cache by default), verifying its checksum.

    The file is written to a temporary name and renamed only after the checksum matches,
    so an interrupted or corrupt download never looks like a valid file.
    """
    dest_dir = Path(dest_dir) if dest_dir else cache_dir()
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / item.filename
    if target.exists():
        verify_checksum(target, item.md5, item.sha256)
        return target
    from tqdm.auto import tqdm

    fd, tmp_name = tempfile.mkstemp(prefix=f".{item.filename}.", suffix=".part", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        try:
            response = urllib.request.urlopen(item.url, timeout=timeout)  # noqa: S310
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DataError(f"could not download {item.url} ({reason}); without network, "
                            f"copy {item.filename} into {dest_dir} or pass --data-dir") from None
        total = int(response.headers.get("Content-Length") or 0) or None
        with os.fdopen(fd, "wb") as out, response, tqdm(
                total=total, unit="B", unit_scale=True, desc=item.filename,
                disable=not progress) as bar:
            while block := response.read(1 << 20):
                out.write(block)
                bar.update(len(block))
        verify_checksum(tmp, item.md5, item.sha256)
        os.replace(tmp, target)
        return target
    finally:
        tmp.unlink(missing_ok=True)


# --- safe extraction -------------------------------------------------------------------

def _inside(base: Path, name: str) -> Path:
    if not name or name.startswith(("/", "\\")) or os.path.isabs(name) or ":" in name[:3]:
        raise DataError(f"refusing to extract {name!r}: absolute path in archive")
    parts = Path(name.replace("\\", "/")).parts
    if ".." in parts:
        raise DataError(f"refusing to extract {name!r}: '..' in archive member path")
    target = (base / name).resolve()
    if target != base and base not in target.parents:
        raise DataError(f"refusing to extract {name!r}: it would land outside {base}")
    return target


def safe_extract(archive: str | Path, dest: str | Path) -> Path:
    """Extract a tar (any compression) or zip archive into ``dest``, refusing escapes.

    Every member is checked before anything is written: absolute paths, ``..``
    components, links pointing outside ``dest``, and device files are refused.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    base = dest.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                _inside(base, info.filename)
                mode = (info.external_attr >> 16) & 0o170000
                if mode == 0o120000:
                    raise DataError(f"refusing to extract {info.filename!r}: symbolic link")
            zf.extractall(base)
        return dest
    try:
        tf = tarfile.open(archive)  # noqa: SIM115 - closed by the with-block below
    except (tarfile.TarError, OSError) as exc:
        raise DataError(f"{archive} is not a readable tar or zip archive ({exc})") from None
    with tf:
        members = tf.getmembers()
        for m in members:
            target = _inside(base, m.name)
            if m.issym() or m.islnk():
                link = m.linkname
                if os.path.isabs(link):
                    raise DataError(f"refusing to extract {m.name!r}: absolute link target")
                anchor = target.parent if m.issym() else base
                resolved = (anchor / link).resolve()
                if resolved != base and base not in resolved.parents:
                    raise DataError(f"refusing to extract {m.name!r}: link escapes {base}")
            elif not (m.isfile() or m.isdir()):
                raise DataError(f"refusing to extract {m.name!r}: not a regular file or folder")
        if hasattr(tarfile, "data_filter"):
            tf.extractall(base, members=members, filter="data")
        else:  # pragma: no cover - Python without PEP 706
            tf.extractall(base, members=members)
    return dest


# --- restricted unpickling -------------------------------------------------------------

#: Globals a pickle of plain NumPy arrays needs; nothing that can run code.
NUMPY_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only an explicit allow-list of globals.

    Plain containers (dict, list, tuple, str, bytes, numbers) need no globals at all, so
    with the default allow-list a pickle can hold only those and NumPy arrays. Anything
    else — a class, ``os.system``, ``builtins.eval`` — is refused before it is created.
    """

    def __init__(self, file: Any, *, allowed: Iterable[tuple[str, str]] = NUMPY_GLOBALS,
                 encoding: str = "latin1") -> None:
        super().__init__(file, encoding=encoding)
        self._allowed = frozenset(allowed)

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._allowed:
            return super().find_class(module, name)
        raise DataError(f"refusing to unpickle {module}.{name}: the file holds an object "
                        "type that plain data never needs (corrupt or malicious file)")


def restricted_loads(data: bytes, *, allowed: Iterable[tuple[str, str]] = NUMPY_GLOBALS,
                     encoding: str = "latin1", what: str = "pickle") -> Any:
    """Unpickle ``data`` allowing only ``allowed`` globals (see RestrictedUnpickler)."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), allowed=allowed,
                                   encoding=encoding).load()
    except DataError:
        raise
    except Exception as exc:  # truncated or garbage pickles raise many types
        raise DataError(f"{what} is not a valid pickle ({type(exc).__name__}: {exc})") from None
