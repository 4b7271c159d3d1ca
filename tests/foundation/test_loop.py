import math
from unittest import mock

import pytest
import torch
from torch import nn

from practica.context import RunContext, Settings
from practica.errors import ConfigError, TrainingDiverged
from practica.records import Run
from practica.train import EpochBatches, LoopConfig, Trainer, load_checkpoint
from practica.train.classification import cross_entropy_step, evaluator


class Stop(Exception):
    pass


def make_problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 5, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


def make_trainer(tmp_path, run=None, resuming=False, stop_at=None, steps=40, nan_at=None,
                 model_seed=0, eval_at_start=True, defer_sync=None, amp="none"):
    x, y = make_problem()
    run = run or Run.create(tmp_path / "runs", "toy", {"experiment": "toy"}, tensorboard=False)
    with mock.patch("practica.context.check_settings", return_value=torch.device("cpu")):
        # the CLI allows fp16 on CUDA only; the scaler path itself runs on the CPU too
        ctx = RunContext(run, Settings(seed=3, progress=False, amp=amp), resuming=resuming)
    torch.manual_seed(model_seed)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=15, gamma=0.5)
    sampler = EpochBatches(64, 8, seed=3)

    def batch_at(step):
        if stop_at is not None and step == stop_at:
            raise Stop
        return x[sampler(step)], y[sampler(step)]

    base_loss = cross_entropy_step()

    def loss_fn(model, batch):
        loss, metrics = base_loss(model, batch)
        if nan_at is not None and trainer.step == nan_at:
            loss = loss * float("nan")
        return loss, metrics

    trainer = Trainer(ctx, model, opt, batch_at, loss_fn, evaluator({"test": (x, y)}, ctx),
                      LoopConfig(steps=steps, eval_every=10, eval_at_start=eval_at_start),
                      scheduler=sched, defer_sync=defer_sync)
    return trainer, run


def test_training_reaches_low_loss(tmp_path):
    trainer, _ = make_trainer(tmp_path, steps=60)
    final = trainer.fit()
    assert final["test"]["accuracy"] >= 0.9
    assert final["test"]["loss"] < trainer.history[0]["test"]["loss"]


def test_step_zero_evaluation_can_be_skipped(tmp_path):
    with_start, _ = make_trainer(tmp_path / "a", steps=20)
    expected = with_start.fit()
    without, _ = make_trainer(tmp_path / "b", steps=20, eval_at_start=False)
    assert without.fit() == expected  # skipping it changes no training result
    assert [h["step"] for h in with_start.history] == [0, 10, 20]
    assert [h["step"] for h in without.history] == [10, 20]


def test_resume_gives_identical_results(tmp_path):
    full, full_run = make_trainer(tmp_path / "a")
    expected = full.fit()

    broken, run = make_trainer(tmp_path / "b", stop_at=25)
    with pytest.raises(Stop):
        broken.fit()
    assert load_checkpoint(run.checkpoints / "last.pt")["step"] == 20
    run.close()

    # a different initialisation proves the checkpoint, not the seed, restores the model
    resumed, _ = make_trainer(tmp_path / "b", run=Run.open(run.path, tensorboard=False),
                              resuming=True, model_seed=123)
    got = resumed.fit()
    assert got == expected
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values(),
                         strict=True):
        assert torch.equal(a, b), k
    strip = [(r["step"], r["split"], r["metric"], r["value"]) for r in full_run.metrics()]
    assert strip == [(r["step"], r["split"], r["metric"], r["value"])
                     for r in Run.open(run.path).metrics()]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    trainer, run = make_trainer(tmp_path, nan_at=14)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 15; the last good "
                                               r"checkpoint .* is kept"):
        trainer.fit()
    state = load_checkpoint(run.checkpoints / "last.pt")
    assert state["step"] == 10
    assert all(math.isfinite(v.abs().sum().item()) for v in state["model"].values())


def test_deferred_synchronisation_reads_the_device_once_per_evaluation(tmp_path, monkeypatch):
    """The accelerator path (sums kept on the device) trains exactly as the per-step one."""
    eager, _ = make_trainer(tmp_path / "a")
    expected = eager.fit()
    reads = []
    original = Trainer._synchronise
    monkeypatch.setattr(Trainer, "_synchronise", lambda self: reads.append(self.step)
                        or original(self))
    deferred, _ = make_trainer(tmp_path / "b", defer_sync=True)
    got = deferred.fit()
    assert reads == [10, 20, 30, 40]  # not once per step
    assert got["test"] == expected["test"]  # the same weights: evaluation equal exactly
    assert got["train"]["loss"] == pytest.approx(expected["train"]["loss"], rel=1e-6)
    assert got["train"]["accuracy"] == pytest.approx(expected["train"]["accuracy"], rel=1e-6)


def test_deferred_synchronisation_still_names_the_first_nan_step(tmp_path):
    trainer, run = make_trainer(tmp_path, nan_at=14, defer_sync=True)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 15; the last good "
                                               r"checkpoint .* is kept"):
        trainer.fit()
    state = load_checkpoint(run.checkpoints / "last.pt")
    assert state["step"] == 10  # the weights after the NaN step were never saved
    assert all(math.isfinite(v.abs().sum().item()) for v in state["model"].values())


def test_fp16_loss_scaling_trains_and_resumes_exactly(tmp_path):
    """The GradScaler path of --amp fp16 (CUDA in use; its CPU form here): it trains, its
    scale is checkpointed, and a resumed run ends exactly where an unbroken one does."""
    full, _ = make_trainer(tmp_path / "a", steps=60, amp="fp16")
    expected = full.fit()
    assert full._scaler is not None and expected["test"]["accuracy"] >= 0.9
    broken, run = make_trainer(tmp_path / "b", steps=60, amp="fp16", stop_at=25)
    with pytest.raises(Stop):
        broken.fit()
    assert load_checkpoint(run.checkpoints / "last.pt")["scaler"]["scale"] > 0
    run.close()
    resumed, _ = make_trainer(tmp_path / "b", run=Run.open(run.path, tensorboard=False),
                              resuming=True, steps=60, amp="fp16", model_seed=9)
    assert resumed.fit() == expected
    assert resumed._scaler.get_scale() == full._scaler.get_scale()


def test_nan_before_any_checkpoint(tmp_path):
    trainer, _ = make_trainer(tmp_path, nan_at=0)
    with pytest.raises(TrainingDiverged, match="no checkpoint had been written yet"):
        trainer.fit()


def test_checkpoint_refuses_pickled_objects(tmp_path):
    import pickle

    from practica.errors import PracticaError

    path = tmp_path / "evil.pt"
    with path.open("wb") as fh:
        pickle.dump({"x": Stop()}, fh)
    with pytest.raises(PracticaError, match="cannot read checkpoint"):
        load_checkpoint(path)


def test_epoch_batches_are_a_function_of_step():
    a, b = EpochBatches(10, 3, seed=1), EpochBatches(10, 3, seed=1)
    first = [a(s).tolist() for s in range(9)]
    assert [b(s).tolist() for s in reversed(range(9))][::-1] == first
    epoch0 = sum(first[:3], [])
    assert len(set(epoch0)) == 9  # no repeats within an epoch
    assert first[:3] != first[3:6]  # reshuffled each epoch
    with pytest.raises(ConfigError, match="batch_size 3 is larger than the 2 training"):
        EpochBatches(2, 3, seed=0)


def test_bucketed_batches_keep_each_epoch_and_cut_the_padding():
    from practica.train import BucketedBatches

    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(10, 141, (2000,), generator=g)  # tweet-like: 10 to 140
    a, b = BucketedBatches(lengths, 32, seed=4, pool=10), BucketedBatches(lengths, 32, seed=4,
                                                                           pool=10)
    per_epoch = 2000 // 32
    steps = range(2 * per_epoch)
    first = [a(s) for s in steps]
    backwards = reversed(list(zip(steps, first, strict=True)))
    assert all(torch.equal(x, b(s)) for s, x in backwards)  # a function of (seed, step)
    epoch0 = torch.cat(first[:per_epoch])
    assert len(set(epoch0.tolist())) == per_epoch * 32  # each example at most once an epoch
    assert not torch.equal(epoch0, torch.cat(first[per_epoch:]))  # reshuffled each epoch
    padded = sum(int(lengths[i].max()) * len(i) for i in first[:per_epoch])
    randomly = EpochBatches(2000, 32, seed=4)
    padded_random = sum(int(lengths[randomly(s)].max()) * 32 for s in range(per_epoch))
    assert padded < 0.7 * padded_random  # far less padding than random batches
    assert len({int(lengths[i].min()) for i in first[:per_epoch]}) > 10  # batches still mixed
