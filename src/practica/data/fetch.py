"""``practica data fetch``: get data sets into the cache and say what happened to each.

For each data set (its recipe is in :mod:`practica.data.sources`): if it is already found in
a data root, nothing is done; if it needs a manual step, the step is returned; otherwise its
files are downloaded (resumed, retried, verified, placed atomically: see
:func:`practica.data.store.download`) and its ``prepare`` step runs (extract, convert).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import PracticaError
from .sources import SOURCES, FetchOptions, Source, format_size
from .store import data_roots, download

FETCHED = "fetched"
PRESENT = "already present"
MANUAL = "needs a manual step"
FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """What ``fetch`` did for one data set; ``detail`` is the location, the step or the error."""

    name: str
    state: str
    size: int
    detail: str


def disk_size(path: Path) -> int:
    """Bytes of a file, or of every file below a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _footprint(source: Source, where: Path, data_dir: str | Path | None) -> int:
    """Bytes the data set takes at ``where`` (a file, its folder, or a whole data root)."""
    roots = {r.resolve() for r in data_roots(data_dir) if r.exists()}
    if where.resolve() not in roots:
        return disk_size(where)
    paths = [where / folder / item.filename for folder, item in source.downloads()]
    paths += [where / out for out in source.outputs]
    return sum(disk_size(p) for p in paths if p.exists())


def fetch(name: str, *, data_dir: str | Path | None = None, offline: bool = False,
          progress: bool = True, options: FetchOptions | None = None,
          retries: int = 3, backoff: float = 1.0) -> Outcome:
    """Fetch one data set (see the module doc); DataError when a download fails."""
    from . import DATASETS

    options = options or FetchOptions()
    source, info = SOURCES[name], DATASETS[name]
    where = info.locate(data_dir)
    if where is not None and not (name == "tweets" and options.tweets_explicit):
        return Outcome(name, PRESENT, _footprint(source, where, data_dir), str(where))
    if source.manual:
        return Outcome(name, MANUAL, 0, source.manual_step())
    root = source.destination()
    for folder, item in source.downloads():
        download(item, root / folder if folder else root, progress=progress, offline=offline,
                 retries=retries, backoff=backoff)
    if source.prepare is not None:
        source.prepare(root, options)
    placed = [root / f / item.filename for f, item in source.downloads()]
    placed += [root / out for out in source.outputs]
    size = sum(disk_size(p) for p in placed if p.exists())
    return Outcome(name, FETCHED, size, str(root))


def fetch_many(names: list[str], **kwargs) -> list[Outcome]:
    """Fetch each data set in turn; a failure is recorded and the next one goes on."""
    outcomes = []
    for name in names:
        try:
            outcomes.append(fetch(name, **kwargs))
        except (PracticaError, OSError) as exc:
            outcomes.append(Outcome(name, FAILED, 0, str(exc) if isinstance(exc, PracticaError)
                                    else f"{exc.filename or ''}: {exc.strerror or exc}"))
    return outcomes


def format_table(outcomes: list[Outcome]) -> str:
    """The closing table of ``practica data fetch``: data set, result, size on disk, detail."""
    rows = [("data set", "result", "size on disk", "details")]
    rows += [(o.name, o.state, format_size(o.size) if o.size else "—", o.detail)
             for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r[:3], widths, strict=True)) + "  " + r[3]
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 7)
    return "\n".join(line.rstrip() for line in lines)
