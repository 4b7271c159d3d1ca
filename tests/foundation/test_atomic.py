"""Atomic writes: a planted symlink is replaced, never written through; a failure leaves
neither a partial target nor a temporary file."""

from __future__ import annotations

import errno

import matplotlib.pyplot as plt
import pytest

from practica.records import atomic
from practica.records.atomic import atomic_open, atomic_write_bytes, save_figure


def test_a_symlink_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("original")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "summary.json").symlink_to(victim)
    atomic_write_bytes(folder / "summary.json", b"{}")
    assert victim.read_text() == "original"
    assert not (folder / "summary.json").is_symlink()
    assert (folder / "summary.json").read_bytes() == b"{}"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "last.pt"
    target.write_bytes(b"old checkpoint")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write(b"half a checkp")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_disk_full_while_syncing_cleans_up(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError):
        atomic_write_bytes(tmp_path / "x.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_save_figure_writes_a_complete_png_or_nothing(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_figure(fig, tmp_path / "plot.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    class Broken:
        def savefig(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        save_figure(Broken(), tmp_path / "other.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png"]
    plt.close(fig)
