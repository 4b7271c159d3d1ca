"""Run one check on a learner's code, in its own process (``practica check`` starts one per
piece, with a time limit): ``python -m practica.check.worker HANDOUT FOLDER PIECE``.

The learner's module is imported from FOLDER; the verdict is printed as one JSON line:
``{"status": "PASS" | "FAIL" | "MISSING" | "ERROR", "message": "..."}``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
from pathlib import Path


def verdict(handout: str, folder: Path, piece_name: str) -> dict[str, str]:
    from . import HANDOUTS

    piece = {p.name: p for p in HANDOUTS[handout]}[piece_name]
    path = folder / f"{piece.module}.py"
    if not path.is_file():
        return {"status": "MISSING", "message": f"no {path.name} in {folder}"}
    sys.path.insert(0, str(folder))  # the learner's own imports (e.g. of a helper module)
    if not piece.imports:  # a script that runs when imported: the check reads the file
        import types

        module = types.ModuleType(piece.module)
        module.__file__ = str(path)
        return _run(piece, module, path)
    try:
        spec = importlib.util.spec_from_file_location(piece.module, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as exc:  # a syntax error, an import error, anything at import time
        return {"status": "ERROR", "message": f"importing {path.name} failed: "
                                              f"{_where(exc, path)}"}
    return _run(piece, module, path)


def _run(piece, module, path: Path) -> dict[str, str]:
    from .compare import Mismatch, Missing

    try:
        piece.run(module)
    except Missing as exc:
        return {"status": "MISSING", "message": str(exc)}
    except Mismatch as exc:
        return {"status": "FAIL", "message": str(exc)}
    except NotImplementedError:
        return {"status": "MISSING", "message": "not implemented yet (NotImplementedError)"}
    except Exception as exc:
        return {"status": "ERROR", "message": f"raised {_where(exc, path)}"}
    return {"status": "PASS", "message": piece.what}


def _where(exc: BaseException, path: Path) -> str:
    """``Type: message`` and the learner's line that raised it."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"{text} ({path.name} line {exc.lineno})"
    return f"{text} ({path.name} line {frames[-1].lineno})" if frames else text


def main() -> None:
    handout, folder, piece = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    result = verdict(handout, folder, piece)
    sys.stdout.flush()
    print("\n" + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
