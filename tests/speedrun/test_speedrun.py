import json

import pytest
import torch
from foundation.formats import write_cifar_folder
from torch import nn

from practica import cli
from practica.data import cifar10
from practica.experiments.speedrun import (
    SpeedrunConfig,
    alternating_flips,
    schedule,
    translate,
)
from practica.models.speedrun import SpeedrunNet, patch_whitening_filters
from practica.train.averaging import Lookahead


def _correlated_images(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n, 1, 9, 9, generator=g)
    noise = 0.3 * torch.randn(n, 3, 9, 9, generator=g)
    return base + noise + torch.tensor([0.5, -1.0, 2.0])[None, :, None, None]


def test_whitening_filters_give_patches_identity_covariance():
    x = _correlated_images()
    filters = patch_whitening_filters(x, kernel=2, eps=0.0)
    assert filters.shape == (24, 3, 2, 2)
    torch.testing.assert_close(filters[12:], -filters[:12])
    out = torch.nn.functional.conv2d(x, filters[:12])  # N, 12, 8, 8
    z = out.permute(0, 2, 3, 1).reshape(-1, 12).double()
    cov = torch.cov(z.T)
    torch.testing.assert_close(cov, torch.eye(12, dtype=torch.float64), atol=2e-3, rtol=0)


def test_whitening_eps_damps_small_eigenvalues():
    x = _correlated_images()
    plain, damped = patch_whitening_filters(x, eps=0.0), patch_whitening_filters(x, eps=1.0)
    assert damped.norm() < plain.norm()


def test_net_shapes_and_frozen_whitening():
    net = SpeedrunNet((8, 16, 16))
    net.init_whitening(torch.randn(50, 3, 32, 32))
    assert net(torch.randn(5, 3, 32, 32)).shape == (5, 10)
    assert not net.whiten.weight.requires_grad and net.whiten.bias.requires_grad
    bn = net.blocks[0][2]
    assert not bn.weight.requires_grad and bn.bias.requires_grad
    with pytest.raises(ValueError, match="N×C×H×W"):
        patch_whitening_filters(torch.randn(3, 32, 32))


def test_alternating_flips_mirror_each_image_in_exactly_one_of_two_epochs():
    mask = alternating_flips(1000, seed=0)
    idx = torch.arange(1000)
    e0, e1, e2 = mask(idx, 0), mask(idx, 1), mask(idx, 2)
    assert torch.equal(e0 ^ e1, torch.ones(1000, dtype=torch.bool))
    assert torch.equal(e0, e2)
    assert 400 < int(e0.sum()) < 600


def test_translate_shifts_with_reflected_border():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    y = translate(x, 1, 1)
    torch.testing.assert_close(y[..., 1:, 1:], x[..., :-1, :-1])
    torch.testing.assert_close(y[0, 0, 0, 1:], x[0, 0, 1, :-1])  # reflected row
    torch.testing.assert_close(translate(x, 0, 0), x)


def test_lookahead_update_is_the_stated_average():
    net = nn.Linear(2, 2)
    la = Lookahead(net, every=5)
    with torch.no_grad():
        la.slow.weight.fill_(1.0)
        net.weight.fill_(3.0)
    la.update(0.75)  # slow = 0.75·1 + 0.25·3 = 1.5, and fast copies it
    torch.testing.assert_close(la.slow.weight, torch.full((2, 2), 1.5))
    torch.testing.assert_close(net.weight, torch.full((2, 2), 1.5))
    with torch.no_grad():
        net.weight.fill_(9.0)
    la.update(1.0)  # the end of training: the model takes the slow weights
    torch.testing.assert_close(net.weight, torch.full((2, 2), 1.5))
    assert "slow.weight" in la.state_dict()


def test_schedule_warms_up_decays_and_stops_the_whitening_bias():
    main, shifts, whiten = schedule(SpeedrunConfig(warmup=0.2), total=100, whiten_steps=30)
    assert main(0) == pytest.approx(0.2) and main(20) == pytest.approx(1.0)
    assert main(60) == pytest.approx(0.5) and main(100) == 0.0
    assert whiten(29) == main(29) and whiten(30) == 0.0 and shifts(50) == main(50)


def test_smoke_run_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    data = write_cifar_folder(tmp_path / "data").parent
    code = cli.main(["run", "cifar-speedrun", "--no-progress", "--data-dir", str(data),
                     "--runs-dir", str(tmp_path / "runs"), "--set", "epochs=2",
                     "--set", "batch_size=20", "--set", "widths=[8,16,16]",
                     "--set", "eval_every=5"])
    assert code == 0
    (run_dir,) = (tmp_path / "runs" / "cifar-speedrun").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 10 and summary["train_images_per_second"] > 0
    assert 0 <= summary["metrics"]["test/accuracy_tta"] <= 1
    assert (run_dir / "plots" / "accuracy_vs_seconds.png").is_file()
    seconds = [r for r in (run_dir / "metrics.csv").read_text().splitlines()
               if ",train,seconds," in r]
    assert len(seconds) == 2


def test_profile_benchmark_accounts_for_every_layer():
    """benchmarks/speedrun_profile.py runs the experiment's own step and names each conv."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "speedrun_profile.py"
    out = subprocess.run([sys.executable, str(script), "--steps", "1", "--batch", "8",
                          "--widths", "8,16,16"], capture_output=True, text=True, check=True,
                         timeout=300).stdout
    assert "training images/s" in out and "outside forward and backward" in out
    for layer in ("whiten", "blocks.0.0", "blocks.0.4", "blocks.1.0", "blocks.2.4"):
        assert layer in out
    assert "?" not in out.split("all convolutions")[0].split("layer")[-1]
