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

import contextlib
import errno
import hashlib
import http.client
import io
import lzma
import os
import pickle
import shutil
import stat
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import DataError, describe


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
    """An official download: URL(s), file name on disk, and how the file is checked.

    ``md5``/``sha256`` are the expected digests (see ``practica.data.sources`` for where each
    comes from); ``check`` validates the structure of a file that has no known digest (it
    raises DataError). ``mirrors`` are tried in order when ``url`` fails; ``size`` is the
    file's size in bytes where known (for the progress bar and ``practica data status``).
    """

    url: str
    filename: str
    md5: str | None = None
    sha256: str | None = None
    mirrors: tuple[str, ...] = ()
    size: int | None = None
    check: Callable[[Path], object] | None = field(default=None, compare=False)


def file_digest(path: str | Path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_checksum(path: Path, md5: str | None = None, sha256: str | None = None, *,
                    name: str | None = None) -> None:
    """Raise DataError unless ``path`` (called ``name`` in the message) matches the digests."""
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected:
            actual = file_digest(path, algorithm)
            if actual.lower() != expected.lower():
                raise DataError(f"checksum mismatch for {name or path.name}: {algorithm} is "
                                f"{actual}, expected {expected}; the file is corrupt or not "
                                "the official one — delete it and fetch it again")


def _verify_download(path: Path, item: Download) -> None:
    """The checksum (or, without one, the structure check) of a finished download."""
    verify_checksum(path, item.md5, item.sha256, name=item.filename)
    if item.check is not None:
        item.check(path)


#: HTTP statuses worth retrying: the server or a proxy is busy or briefly down.
TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


class _Transient(Exception):
    """A failure that a retry may cure (time-out, reset connection, 503, short body)."""


class _Unavailable(Exception):
    """A failure that retrying the same URL will not cure (404, bad URL, no such host)."""


def _content_range_start(value: str | None) -> int | None:
    """The first byte of ``Content-Range: bytes START-END/TOTAL``, or None."""
    try:
        unit, _, span = (value or "").partition(" ")
        return int(span.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


def _transfer(url: str, part: Path, item: Download, *, progress: bool, timeout: float) -> None:
    """Fetch ``url`` into ``part``, resuming from the bytes already there (HTTP Range)."""
    from tqdm.auto import tqdm

    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "practica"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and have:  # nothing left to send: the part is already whole
            return
        if exc.code in TRANSIENT_HTTP:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
        raise _Unavailable(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (TimeoutError, ConnectionError, http.client.HTTPException)):
            raise _Transient(describe(reason)) from None
        raise _Unavailable(str(reason)) from None
    with response:
        status = getattr(response, "status", None) or 200
        if have and status == 206:
            if _content_range_start(response.headers.get("Content-Range")) != have:
                part.unlink()  # not the range asked for: start again from the first byte
                raise _Transient("the server sent another range than asked for")
        else:
            have = 0  # a full answer (the server ignores Range): start again
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length and length.isdigit() else item.size
        received = have
        with open(part, "ab" if have else "wb") as out, tqdm(
                total=expected, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                desc=item.filename, disable=not progress, leave=False) as bar:
            try:
                while block := response.read(1 << 16):
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException) as exc:
                raise _Transient(f"interrupted after {received:,} bytes "
                                 f"({describe(exc)})") from None
    if length and length.isdigit() and received < have + int(length):
        raise _Transient(f"the connection closed after {received:,} of "
                         f"{have + int(length):,} bytes")


@contextlib.contextmanager
def _exclusive(path: Path):
    """Hold an exclusive lock on ``path`` (created if needed), where the OS offers one.

    Two processes fetching the same file take turns: the second finds the first's result.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no advisory locks (Windows)
            yield
        else:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
    finally:
        os.close(fd)


def download(item: Download, dest_dir: Path | None = None, *, progress: bool = True,
             timeout: float = 30.0, offline: bool = False, retries: int = 3,
             backoff: float = 1.0) -> Path:
    """Download ``item`` into ``dest_dir`` (the cache by default) and verify it.

    * A file already in place is verified and returned; nothing is fetched.
    * ``offline``: never touch the network — a missing file is a DataError saying what to do.
    * The bytes go to ``.NAME.part`` and are renamed into place only after the checksum (or
      the structure check) passes, so a partial or corrupt download never looks valid.
    * An interrupted transfer is resumed from the bytes already received (HTTP Range), also
      by a later call; transient errors (time-outs, resets, HTTP 5xx, a short body) are
      retried ``retries`` times, waiting ``backoff``·2^k seconds; then the mirrors are tried.
    * A checksum mismatch deletes the bad file and is a one-line DataError.
    """
    dest_dir = Path(dest_dir) if dest_dir else cache_dir()
    target = dest_dir / item.filename
    if target.exists():
        _verify_download(target, item)
        return target
    if offline:
        raise DataError(f"{item.filename} is not in {dest_dir} and --offline forbids "
                        f"downloading it; fetch it where there is network ({item.url}) and "
                        f"copy it into {dest_dir}, or pass --data-dir")
    dest_dir.mkdir(parents=True, exist_ok=True)
    part = dest_dir / f".{item.filename}.part"
    failures: list[str] = []
    with _exclusive(part):
        if target.exists():  # another process finished it while we waited
            _verify_download(target, item)
            return target
        urls = (item.url, *item.mirrors)
        for url in urls:
            try:
                _fetch_with_retries(url, part, item, progress=progress, timeout=timeout,
                                    retries=retries, backoff=backoff)
            except _Unavailable as exc:
                failures.append(f"{url}: {exc}")
                continue
            try:
                _verify_download(part, item)
            except DataError as exc:
                part.unlink(missing_ok=True)
                failures.append(f"{url}: {exc}")
                if url == urls[-1]:
                    mismatch = str(exc).split(";")[0]
                    raise DataError(f"{mismatch} (downloaded from {url}); the bad file was "
                                    "deleted — run the command again, or copy the official "
                                    f"file into {dest_dir}") from None
                continue
            os.replace(part, target)
            return target
        if part.exists() and part.stat().st_size == 0:
            part.unlink()
    raise DataError(f"could not download {item.filename} ({'; '.join(failures)}); without "
                    f"network, copy {item.filename} into {dest_dir} or pass --data-dir")


def _fetch_with_retries(url: str, part: Path, item: Download, *, progress: bool,
                        timeout: float, retries: int, backoff: float) -> None:
    for attempt in range(retries + 1):
        try:
            _transfer(url, part, item, progress=progress, timeout=timeout)
            return
        except _Transient as exc:
            if attempt == retries:
                raise _Unavailable(f"{exc}; gave up after {retries + 1} attempts") from None
            time.sleep(backoff * 2 ** attempt)


# --- safe extraction -------------------------------------------------------------------

#: What a damaged archive raises while it is read (truncated, bit-flipped, wrong format).
_ARCHIVE_READ_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError,
                        zlib.error, OSError, ValueError, RuntimeError)


@dataclass(frozen=True)
class _Member:
    """One archive member that passed the checks: its path parts and kind."""

    parts: tuple[str, ...]
    is_dir: bool
    source: Any  # tarfile.TarInfo or zipfile.ZipInfo


def _member_parts(name: str) -> tuple[str, ...]:
    """The member's path as relative parts; refuse absolute paths and ``..``."""
    clean = name.replace("\\", "/")
    if not clean or clean.startswith("/") or os.path.isabs(name) or ":" in clean[:3]:
        raise DataError(f"refusing to extract {name!r}: absolute path in archive")
    parts = tuple(p for p in clean.split("/") if p not in ("", "."))
    if ".." in parts:
        raise DataError(f"refusing to extract {name!r}: '..' in archive member path")
    if any("\x00" in p for p in parts):
        raise DataError(f"refusing to extract {name!r}: NUL byte in member name")
    return parts


def _tar_members(tf: tarfile.TarFile) -> list[_Member]:
    out = []
    for m in tf.getmembers():
        parts = _member_parts(m.name)
        if m.issym() or m.islnk():
            kind = "symbolic link" if m.issym() else "hard link"
            raise DataError(f"refusing to extract {m.name!r}: {kind} (the archives practica "
                            "reads hold only regular files and folders)")
        if not (m.isfile() or m.isdir()):
            raise DataError(f"refusing to extract {m.name!r}: not a regular file or folder")
        if parts:
            out.append(_Member(parts, m.isdir(), m))
    return out


def _zip_members(zf: zipfile.ZipFile) -> list[_Member]:
    out = []
    for info in zf.infolist():
        parts = _member_parts(info.filename)
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind == stat.S_IFLNK:
            raise DataError(f"refusing to extract {info.filename!r}: symbolic link")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise DataError(f"refusing to extract {info.filename!r}: not a regular file "
                            "or folder")
        if parts:
            out.append(_Member(parts, info.is_dir() or kind == stat.S_IFDIR, info))
    return out


def _real_dir(base: Path, parts: tuple[str, ...]) -> Path:
    """Create ``base/parts...`` one folder at a time, refusing anything that is not a plain
    folder on disk (a symlink planted by anyone), and return it."""
    here = base
    for part in parts:
        here = here / part
        with contextlib.suppress(FileExistsError):
            os.mkdir(here, 0o755)
        info = os.lstat(here)
        if not stat.S_ISDIR(info.st_mode):
            raise DataError(f"refusing to extract into {here}: it exists and is not a folder")
    if Path(os.path.realpath(here)) != here:
        raise DataError(f"refusing to extract into {here}: it resolves outside {base}")
    return here


def _write_member(base: Path, member: _Member, stream: IO[bytes], name: str) -> None:
    folder = _real_dir(base, member.parts[:-1])
    target = folder / member.parts[-1]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        raise DataError(f"refusing to extract {name!r}: it is in the archive twice or the "
                        f"destination already holds it") from None
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)


def safe_extract(archive: str | Path, dest: str | Path) -> Path:
    """Extract a tar (any compression) or zip archive into ``dest``, member by member.

    The archives practica reads hold regular files and folders only, so every link and
    special member is refused before anything is written, as are absolute paths and
    ``..``. Members are then written one at a time: each folder is created and checked on
    disk (never through a symlink), each file is created exclusively with ``O_NOFOLLOW``.
    This is safe against the chained-symlink escapes that defeat purely lexical checks
    (CVE-2025-4517). A damaged archive is a DataError naming it.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise DataError(f"archive not found: {archive}")
    dest.mkdir(parents=True, exist_ok=True)
    base = Path(os.path.realpath(dest))
    current = archive.name
    try:
        if zipfile.is_zipfile(archive):
            handle: Any = zipfile.ZipFile(archive)
            members, open_member = _zip_members(handle), handle.open
        else:
            handle = tarfile.open(archive)  # noqa: SIM115 - closed by the with-block below
            members, open_member = _tar_members(handle), handle.extractfile
        with handle:
            for m in members:
                current = getattr(m.source, "filename", None) or m.source.name
                if m.is_dir:
                    _real_dir(base, m.parts)
                    continue
                stream = open_member(m.source)
                if stream is None:  # pragma: no cover - regular files always have one
                    raise DataError(f"cannot read {current!r} in {archive}")
                with stream:
                    _write_member(base, m, stream, current)
    except DataError:
        raise
    except _ARCHIVE_READ_ERRORS as exc:
        writing = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
        if isinstance(exc, OSError) and exc.errno in writing:
            raise DataError(f"cannot extract {archive.name} into {dest}: {exc.strerror}; free "
                            "space or choose another cache folder (PRACTICA_CACHE)") from None
        raise DataError(f"{archive} is not a readable tar or zip archive, or is truncated or "
                        f"corrupt at {current!r} ({describe(exc)}); delete it "
                        "and fetch it again") from None
    return dest


# --- .npy and .npz without trusting their headers ----------------------------------------

def read_npy_header(raw: bytes, what: str) -> tuple[tuple[int, ...], bool, Any, int]:
    """(shape, fortran order, dtype, data offset) of a ``.npy`` payload.

    For a plain dtype the header's shape must fit in the bytes that follow it: a header
    claiming (2**40,) elements is refused here, before anything is allocated.
    """
    import numpy as np

    fh = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except ValueError as exc:
        raise DataError(f"{what} is not a valid .npy array ({exc})") from None
    offset = fh.tell()
    if not dtype.hasobject:
        count = 1
        for n in shape:
            count *= int(n)
        needed, available = count * dtype.itemsize, len(raw) - offset
        if needed > available:
            raise DataError(f"{what}: its header announces {shape} {dtype} ({needed:,} bytes) "
                            f"but the file holds {available:,}; it is truncated or corrupt")
    return tuple(shape), fortran, dtype, offset


def read_plain_npy(raw: bytes, what: str) -> Any:
    """A ``.npy`` array of a plain dtype, its size checked before reading (no pickle)."""
    import numpy as np

    _, _, dtype, _ = read_npy_header(raw, what)
    if dtype.hasobject:
        raise DataError(f"{what}: holds Python objects; only plain arrays are expected")
    try:
        return np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{what} is not a valid .npy array ({exc})") from None


#: Largest member read from an .npz (a checkpoint of the project's models is far smaller).
NPZ_MEMBER_LIMIT = 4 << 30


def read_plain_npz(path: str | Path) -> dict[str, Any]:
    """Every member of an ``.npz`` of plain arrays; sizes checked against the file, no pickle."""
    path = Path(path)
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.file_size > NPZ_MEMBER_LIMIT:
                    raise DataError(f"{path.name}:{info.filename} claims {info.file_size:,} "
                                    "bytes; refusing to read it (corrupt or hostile file)")
                out[info.filename.removesuffix(".npy")] = read_plain_npy(
                    zf.read(info), f"{path.name}:{info.filename}")
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataError(f"{path} is not a readable .npz file ({describe(exc)})") from None
    return out


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
