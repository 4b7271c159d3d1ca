"""Hostile files given to the CLI: nothing is written outside practica's folders, and the
user sees one line (exit 2), never a traceback."""

from __future__ import annotations

import lzma
import os
from pathlib import Path

import pytest

from practica import cli

from .formats import chained_symlink_tar


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def assert_one_line_exit_2(code: int, capsys) -> str:
    """Exit 2, no traceback, and the error on one line (after the run's announcement, if
    the run got as far as announcing itself)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2, lines
    assert not any("Traceback" in line for line in lines), lines
    errors = [line for line in lines if not line.startswith(("run directory: ", "resuming "))]
    assert len(errors) == 1 and errors[0].startswith("practica: error: "), lines
    return errors[0]


@pytest.fixture
def hostile_cifar(tmp_path) -> Path:
    """A data folder whose CIFAR-10 archive is the chained-symlink escape, xz-compressed."""
    data = tmp_path / "data"
    data.mkdir()
    raw = chained_symlink_tar(tmp_path / "evil.tar").read_bytes()
    (data / "cifar-10-batches-py.tar.xz").write_bytes(lzma.compress(raw))
    (tmp_path / "victim").write_text("original\n")
    return data


@pytest.mark.parametrize("command", [["run", "mlp-torch", "--no-progress"],
                                     ["data", "verify", "cifar10"]])
def test_hostile_cifar_archive_writes_nothing_outside(hostile_cifar, tmp_path, capsys,
                                                      command):
    before = files_under(tmp_path)
    code = cli.main([*command, "--data-dir", str(hostile_cifar),
                     *(["--runs-dir", str(tmp_path / "runs")] if command[0] == "run" else [])])
    if command[0] == "run":
        err = assert_one_line_exit_2(code, capsys)
    else:
        out = capsys.readouterr()
        assert code != 0 and "Traceback" not in out.err
        err = out.out + out.err
    assert "symbolic link" in err
    new = files_under(tmp_path) - before
    allowed = {tmp_path / "runs"}  # the runs folder may stay; no run directory in it
    assert all(p.is_relative_to(tmp_path / "cache") or p in allowed for p in new), new
    assert not (tmp_path / "pwned").exists()
    assert (tmp_path / "victim").read_text() == "original\n"
    extracted = tmp_path / "cache" / "extracted"
    assert not extracted.exists() or not any(extracted.rglob(".complete"))
    assert not any(p.is_symlink() for p in (tmp_path / "cache").rglob("*"))


# --- a hostile run directory ------------------------------------------------------------

TINY = ["--set", "steps=12", "--set", "eval_every=4", "--set", "batch_size=10"]


@pytest.fixture
def interrupted_run(tmp_path, monkeypatch, capsys) -> Path:
    """A tiny mlp-torch run on fixture CIFAR-10, stopped by Ctrl-C after its first
    checkpoint."""
    from practica.data import cifar10
    from practica.train import loop

    from .formats import write_cifar_folder

    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    data = write_cifar_folder(tmp_path / "data").parent
    real = loop.to_device

    def interrupt(batch, ctx):  # Ctrl-C on the first batch after a checkpoint was written
        if (ctx.run.checkpoints / "last.pt").is_file():
            raise KeyboardInterrupt
        return real(batch, ctx)

    monkeypatch.setattr(loop, "to_device", interrupt)
    code = cli.main(["run", "mlp-torch", "--data-dir", str(data), "--no-progress", *TINY,
                     "--runs-dir", str(tmp_path / "runs")])
    assert code == 130
    monkeypatch.setattr(loop, "to_device", real)
    (run_dir,) = (tmp_path / "runs" / "mlp-torch").iterdir()
    assert capsys.readouterr().err.strip().endswith(f"`practica resume {run_dir}`")
    return run_dir


@pytest.mark.parametrize("planted", ["checkpoints/.last.pt.tmp", ".summary.json.tmp",
                                     "report.html", "plots/loss.png", "metrics.csv"])
def test_resume_refuses_links_leading_outside(interrupted_run, tmp_path, capsys, planted):
    victim = tmp_path / "victim.txt"
    victim.write_text("original\n")
    link = interrupted_run / planted
    link.unlink(missing_ok=True)
    link.symlink_to(victim)
    capsys.readouterr()
    err = assert_one_line_exit_2(cli.main(["resume", str(interrupted_run), "--no-progress"]),
                                 capsys)
    assert "symbolic link" in err and planted.split("/")[-1] in err
    assert victim.read_text() == "original\n"


def test_resume_refuses_a_hard_linked_metrics_file(interrupted_run, tmp_path, capsys):
    metrics = interrupted_run / "metrics.csv"
    os.link(metrics, tmp_path / "elsewhere.csv")
    before = (tmp_path / "elsewhere.csv").read_text()
    capsys.readouterr()
    err = assert_one_line_exit_2(cli.main(["resume", str(interrupted_run), "--no-progress"]),
                                 capsys)
    assert "hard-linked" in err
    assert (tmp_path / "elsewhere.csv").read_text() == before


def test_resume_writes_no_fixed_temporary_names(interrupted_run, tmp_path, capsys):
    """The old fixed temporary names are just files now: resume neither follows nor needs
    them, and leaves no temporary file behind."""
    (interrupted_run / "checkpoints" / ".last.pt.tmp").write_text("planted")
    assert cli.main(["resume", str(interrupted_run), "--no-progress"]) == 0
    assert (interrupted_run / "checkpoints" / ".last.pt.tmp").read_text() == "planted"
    leftovers = [p for p in interrupted_run.rglob("*.tmp") if p.name != ".last.pt.tmp"]
    assert leftovers == []


# --- decompression bombs and lying headers ------------------------------------------------

def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header announces width × height pixels (its data is a stub)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_image_is_skipped_with_a_warning(tmp_path):
    from transfer.fixtures import write_zip

    from practica.data import hymenoptera

    extra = {"hymenoptera_data/train/ants/bomb.png": png_claiming(20000, 20000),
             "hymenoptera_data/../escape.jpg": b"x"}
    zipped = write_zip(tmp_path / "data" / "hymenoptera_data.zip", extra=extra)
    with pytest.warns(UserWarning) as caught:
        data = hymenoptera.read(str(zipped))
    messages = " ".join(str(w.message) for w in caught)
    assert "bomb.png" in messages and "escape.jpg" in messages
    assert any("bomb.png" in name for name in data.skipped)
    assert all(img.size[0] < 20000 for split in data.splits.values() for img in split.images)


def npy_claiming(shape: tuple[int, ...]) -> bytes:
    import io as _io

    import numpy as np

    buffer = _io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue() + b"\0" * 64


def test_npz_headers_claiming_terabytes_are_refused_before_allocating(tmp_path, capsys):
    import zipfile

    from practica.data.char_rnn_snapshot import load_snapshot
    from practica.errors import DataError, PracticaError
    from practica.train.array_checkpoint import load_arrays

    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Wxh.npy", npy_claiming((2 ** 40,)))
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_snapshot(path)
    with pytest.raises(PracticaError, match="announces"):
        load_arrays(path)
    code = cli.main(["explain-weights", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "announces" in err


# --- unlucky users: one line, exit 2 -------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["run", "mlp-torch", "--set", "hidden="], "hidden: empty value"),
    (["run", "mlp-torch", "--set", "lr=inf"], "lr: expected a finite number"),
    (["run", "mlp-torch", "--set", "lr=nan"], "lr: expected a finite number"),
    (["run", "mlp-torch", "--config", "{tmp}"], "is a folder"),
    (["run", "mlp-torch", "--config", "{tmp}/latin1.toml"], "is not UTF-8 text"),
    (["run", "mlp-torch", "--runs-dir", "{tmp}/a-file"], "Not a directory"),
    (["generate", "{tmp}", "--beam", "-2"], "--beam: must be at least 0"),
    (["generate", "{tmp}", "--top-k", "-3"], "--top-k: must be at least 0"),
    (["explain-weights", "x.npz", "--top", "100000"], "--top: must be between 1 and 1000"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "latin1.toml").write_bytes(b"lr = 0.1 # \xe9t\xe9\n")
    (tmp_path / "a-file").write_text("not a folder")
    try:
        code = cli.main([a.replace("{tmp}", str(tmp_path)) for a in args])
    except SystemExit as exc:  # argparse's own refusal of a flag's value
        code = exc.code
    err = assert_one_line_exit_2(code, capsys)
    assert message in err


def test_disk_full_during_training_is_one_line_and_leaves_no_temporary(tmp_path, capsys,
                                                                      monkeypatch):
    import errno

    from practica.data import cifar10
    from practica.records import atomic

    from .formats import write_cifar_folder

    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    data = write_cifar_folder(tmp_path / "data").parent

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)  # the first checkpoint write fails
    code = cli.main(["run", "mlp-torch", "--data-dir", str(data), "--no-progress", *TINY,
                     "--runs-dir", str(tmp_path / "runs")])
    err = assert_one_line_exit_2(code, capsys)
    assert "No space left on device; free some disk space" in err
    assert not [p for p in (tmp_path / "runs").rglob("*") if ".tmp" in p.name]


# --- run-directory bookkeeping ---------------------------------------------------------------

def test_a_second_process_in_the_same_run_stops_at_once(interrupted_run, capsys):
    import fcntl

    lock = os.open(interrupted_run / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.pwrite(lock, b"4242\n", 0)
    try:
        capsys.readouterr()
        err = assert_one_line_exit_2(cli.main(["resume", str(interrupted_run),
                                               "--no-progress"]), capsys)
        assert "in use by process 4242" in err
    finally:
        os.close(lock)
    assert cli.main(["resume", str(interrupted_run), "--no-progress"]) == 0  # lock released


def test_resuming_a_run_without_a_checkpoint_logs_step_0_once(tmp_path, monkeypatch, capsys):
    import csv

    from practica.data import cifar10
    from practica.train import loop

    from .formats import write_cifar_folder

    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    data = write_cifar_folder(tmp_path / "data").parent
    real = loop.to_device

    def interrupt(batch, ctx):
        raise KeyboardInterrupt  # the first training batch: step 0 logged, no checkpoint

    monkeypatch.setattr(loop, "to_device", interrupt)
    args = ["--data-dir", str(data), "--no-progress", *TINY, "--runs-dir", str(tmp_path / "r")]
    assert cli.main(["run", "mlp-torch", *args]) == 130
    (run_dir,) = (tmp_path / "r" / "mlp-torch").iterdir()
    assert not any((run_dir / "checkpoints").iterdir())
    monkeypatch.setattr(loop, "to_device", real)
    assert cli.main(["resume", str(run_dir), "--no-progress"]) == 0
    with (run_dir / "metrics.csv").open() as fh:
        rows = [(r["step"], r["split"], r["metric"]) for r in csv.DictReader(fh)]
    assert len(rows) == len(set(rows)), "a metric logged twice at the same step"


@pytest.mark.parametrize("damage, message", [
    ("config", "config.json is damaged"),
    ("summary", "summary.json is damaged"),
    ("empty-checkpoint", "is empty (written by a process that was killed?)"),
    ("other-checkpoint", "does not fit this run's model"),
])
def test_a_damaged_run_directory_is_one_line(interrupted_run, capsys, damage, message):
    import torch

    if damage == "config":
        (interrupted_run / "config.json").write_text("{not json")
    elif damage == "summary":
        (interrupted_run / "summary.json").write_bytes(b"\xff\xfe{")
    elif damage == "empty-checkpoint":
        (interrupted_run / "checkpoints" / "last.pt").write_bytes(b"")
    else:  # a checkpoint of another model, with the same layout of state
        state = torch.load(interrupted_run / "checkpoints" / "last.pt", weights_only=True)
        state["model"] = {"W_hx": torch.zeros(3, 3)}
        torch.save(state, interrupted_run / "checkpoints" / "last.pt")
    capsys.readouterr()
    err = assert_one_line_exit_2(cli.main(["resume", str(interrupted_run), "--no-progress"]),
                                 capsys)
    assert message in err


# --- loaders given files that lie about themselves -------------------------------------------

def test_mnist_of_the_wrong_image_size_is_refused_when_loading(tmp_path):
    import gzip

    import numpy as np

    from practica.data import mnist
    from practica.errors import DataError

    from .formats import idx_bytes, write_mnist_folder

    folder = write_mnist_folder(tmp_path / "mnist")
    odd = np.zeros((40, 27, 29), dtype=np.uint8)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(odd, 2051)))
    with pytest.raises(DataError, match="images are 27×29; MNIST and Fashion-MNIST images"):
        mnist._read_split(folder, "train")


def test_idx_dimensions_whose_product_overflows_are_refused():
    import struct

    from practica.data.mnist import parse_idx
    from practica.errors import DataError

    # 2**31 · 2**31 · 4 = 2**64 wraps to 0 in int64: a header-only file "fits" exactly
    raw = struct.pack(">I", 2051) + struct.pack(">III", 2 ** 31, 2 ** 31, 4)
    with pytest.raises(DataError, match="truncated or corrupt"):
        parse_idx(raw, 2051, "bomb")


def test_a_snapshot_whose_ix_to_char_has_a_gap_is_one_error(tmp_path):
    from text.snapshot_fixture import random_params, write_snapshot

    from practica.data.char_rnn_snapshot import load_snapshot
    from practica.errors import DataError

    path = write_snapshot(tmp_path / "gap.npz", random_params(3, 4), "abc",
                          ix_to_char={0: "a", 1: "b", 3: "c"})
    with pytest.raises(DataError, match=r"ix_to_char must map 0..2 to characters; it lacks \[2\]"):
        load_snapshot(path)


def test_a_batch_larger_than_the_data_is_one_line(tmp_path, capsys, monkeypatch):
    from practica.data import cifar10

    from .formats import write_cifar_folder

    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    data = write_cifar_folder(tmp_path / "data").parent
    code = cli.main(["run", "mlp-torch", "--data-dir", str(data), "--no-progress",
                     "--set", "batch_size=500", "--runs-dir", str(tmp_path / "runs")])
    err = assert_one_line_exit_2(code, capsys)
    assert "batch_size 500 is larger than the 100 training examples" in err


def test_unknown_settings_or_config_keys_in_a_run_are_one_line(interrupted_run, capsys):
    import json

    record = json.loads((interrupted_run / "config.json").read_text())
    record["settings"]["turbo"] = True
    (interrupted_run / "config.json").write_text(json.dumps(record))
    capsys.readouterr()
    err = assert_one_line_exit_2(cli.main(["resume", str(interrupted_run)]), capsys)
    assert "unknown settings turbo" in err
    del record["settings"]["turbo"]
    record["config"]["wings"] = 2
    (interrupted_run / "config.json").write_text(json.dumps(record))
    err = assert_one_line_exit_2(cli.main(["resume", str(interrupted_run)]), capsys)
    assert "config.json" in err and "wings" in err


def test_a_read_only_runs_folder_is_one_line(tmp_path, capsys, monkeypatch):
    """Root ignores permission bits, so the refusal the file system would give is made here."""
    import errno
    import pathlib

    real_mkdir = pathlib.Path.mkdir

    def read_only(self, *args, **kwargs):
        if "runs" in self.parts:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    code = cli.main(["run", "mlp-torch", "--runs-dir", str(tmp_path / "runs")])
    err = assert_one_line_exit_2(code, capsys)
    assert "Read-only file system; choose a writable folder" in err
