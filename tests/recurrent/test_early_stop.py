"""Early stopping on top of the shared Trainer: the rule, and an exact resume."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from practica.context import RunContext, Settings
from practica.data.palindromes import PalindromeDataset
from practica.experiments.recurrent import chunk_trainer, fit_until, stop_reason
from practica.records import Run
from practica.train import LoopConfig
from practica.train.classification import cross_entropy_step, evaluator


def history(*accuracies: float, every: int = 100) -> list[dict]:
    return [{"step": i * every, "val": {"accuracy": a}} for i, a in enumerate(accuracies)]


def test_stops_when_the_goal_is_reached() -> None:
    assert stop_reason(history(0.1, 0.5), goal=0.999) is None
    assert "reached 0.999 at step 200" in stop_reason(history(0.1, 0.5, 1.0), goal=0.999)
    assert stop_reason(history(0.1, 0.5, 1.0)) is None  # goal 0: off


def test_stops_on_a_plateau_after_patience_steps() -> None:
    flat = history(0.10, 0.12, 0.115, 0.118, 0.121)
    assert stop_reason(flat, patience=400) is None  # 0.12 at step 100: 300 steps ago
    longer = history(0.10, 0.12, 0.115, 0.118, 0.121, 0.119)
    reason = stop_reason(longer, patience=400)
    assert reason is not None and reason.startswith("plateau") and "(step 100)" in reason
    assert stop_reason(longer) is None  # patience 0: off


def test_a_slow_creep_counts_once_it_adds_up() -> None:
    creep = history(0.100, 0.106, 0.112, 0.118, 0.124)  # +0.006 per evaluation
    assert stop_reason(creep, patience=300, min_delta=0.01) is None
    flat_then = history(0.100, 0.104, 0.108, 0.108, 0.108)  # +0.008 in total: no progress
    assert stop_reason(flat_then, patience=300, min_delta=0.01) is not None


def _trainer(tmp_path, name: str, resuming: bool = False):
    run = Run.open(tmp_path / name) if resuming else Run.create_at(tmp_path / name, {})
    ctx = RunContext(run, Settings(seed=0, progress=False), resuming=resuming)
    torch.manual_seed(0)
    data = PalindromeDataset(3, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 10))
    steps_seen: list[int] = []

    def batch_at(step: int):
        steps_seen.append(step)
        return data.batch(step, 32)

    trainer = chunk_trainer(
        ctx, model, torch.optim.RMSprop(model.parameters(), lr=1e-2), batch_at,
        cross_entropy_step(),
        evaluator({"val": PalindromeDataset(3, seed=0, stream="val").fixed_set(200)}, ctx),
        LoopConfig(steps=1, eval_every=20))
    return trainer, run, steps_seen


class Killed(Exception):
    pass


def test_chunked_run_stops_early_and_resumes_exactly(tmp_path) -> None:
    rule = functools.partial(stop_reason, goal=0.999, patience=60)
    full, run, _ = _trainer(tmp_path, "full")
    _, reason = fit_until(full, 1000, rule)
    run.close()
    assert 40 < full.step < 1000 and full.step % 20 == 0
    assert reason.startswith(("val accuracy", "plateau"))
    assert [h["step"] for h in full.history] == list(range(0, full.step + 1, 20))

    def killed_at_40(hist):
        if hist[-1]["step"] == 40:
            raise Killed  # as if the process died right after the checkpoint at step 40
        return rule(hist)

    part, run, _ = _trainer(tmp_path, "killed")
    with pytest.raises(Killed):
        fit_until(part, 1000, killed_at_40)
    run.close()
    resumed, run, steps_seen = _trainer(tmp_path, "killed", resuming=True)
    _, reason2 = fit_until(resumed, 1000, rule)
    run.close()
    assert steps_seen[0] == 40  # continued from the checkpoint, did not start over
    assert (resumed.step, reason2) == (full.step, reason)
    for a, b in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_best_checkpoint_keeps_the_best_validation_weights_across_a_restart(tmp_path) -> None:
    from practica.experiments.recurrent import BestCheckpoint

    model = nn.Linear(2, 1)
    path = tmp_path / "best.pt"
    keep = BestCheckpoint(model, path)
    seen = []
    for step, acc in enumerate([0.2, 0.9, 0.5]):  # found a solution at step 1, then lost it
        with torch.no_grad():
            model.weight.fill_(float(step))
        seen.append({"step": step, "val": {"accuracy": acc}})
        keep(seen)
    again = BestCheckpoint(nn.Linear(2, 1), path)  # a resumed run reads the file back
    assert again.best == (1, 0.9)
    with torch.no_grad():
        model.weight.fill_(3.0)
    seen.append({"step": 3, "val": {"accuracy": 0.85}})
    again(seen)  # lower than the kept 0.9: the file keeps step 1
    fresh = nn.Linear(2, 1)
    assert again.load_into(fresh) == 1
    assert torch.equal(fresh.weight, torch.full((1, 2), 1.0))
