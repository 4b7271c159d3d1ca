"""Weights loading: state dicts and checkpoints load, anything else is refused."""

import pickle

import pytest
import torch
import torchvision
from foundation.formats import Evil

from practica.errors import PracticaError
from practica.models import pretrained
from practica.models.pretrained import ImageNetInput, load_backbone, resnet18


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(1)
    source = torchvision.models.resnet18(weights=None, num_classes=10)
    path = tmp_path / "weights.pt"
    torch.save(source.state_dict(), path)
    return source, path


def test_state_dict_loads_backbone_and_gets_a_new_head(saved):
    source, path = saved
    model, what = resnet18(2, str(path))
    assert str(path) in what
    assert torch.equal(model.conv1.weight, source.conv1.weight)
    assert torch.equal(model.layer4[1].bn2.running_var, source.layer4[1].bn2.running_var)
    assert model.fc.out_features == 2


def test_practica_checkpoint_layout_loads(saved, tmp_path):
    source, _ = saved
    path = tmp_path / "last.pt"
    torch.save({"step": 3, "model": source.state_dict(), "optimizer": {}}, path)
    model, _ = resnet18(2, str(path))
    assert torch.equal(model.layer1[0].conv1.weight, source.layer1[0].conv1.weight)


def test_freeze_leaves_only_the_new_head_trainable(saved):
    model, _ = resnet18(2, str(saved[1]), freeze=True)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["fc.weight", "fc.bias"]


def test_malicious_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"conv1.weight": Evil()}))
    with pytest.raises(PracticaError, match="cannot read checkpoint"):
        resnet18(2, str(path))


def test_non_weights_are_refused(tmp_path):
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(PracticaError, match="holds no state dict"):
        resnet18(2, str(tmp_path / "list.pt"))
    torch.save({"conv1.weight": "text"}, tmp_path / "str.pt")
    with pytest.raises(PracticaError, match="not a named tensor"):
        resnet18(2, str(tmp_path / "str.pt"))
    with pytest.raises(PracticaError, match="weights file not found"):
        resnet18(2, str(tmp_path / "missing.pt"))


def test_wrong_architecture_is_refused(tmp_path):
    torch.save(torchvision.models.resnet34(weights=None).state_dict(), tmp_path / "r34.pt")
    with pytest.raises(PracticaError, match="does not fit a ResNet: .*unexpected"):
        resnet18(2, str(tmp_path / "r34.pt"))
    state = torchvision.models.resnet18(weights=None).state_dict()
    state["conv1.weight"] = torch.zeros(64, 1, 7, 7)
    torch.save(state, tmp_path / "gray.pt")
    with pytest.raises(PracticaError, match="conv1.weight has shape"):
        resnet18(2, str(tmp_path / "gray.pt"))


def test_imagenet_weights_come_only_from_the_hub_cache(saved, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    with pytest.raises(PracticaError,
                       match="not in the torch hub cache.*data fetch resnet18-imagenet"):
        resnet18(2, "imagenet")
    cached = pretrained.hub_checkpoint()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(saved[1].read_bytes())
    model, what = resnet18(2, "imagenet")
    assert "ImageNet" in what and torch.equal(model.conv1.weight, saved[0].conv1.weight)


def test_none_is_random_init():
    model = torchvision.models.resnet18(weights=None)
    before = model.conv1.weight.clone()
    assert "random" in load_backbone(model, "none")
    assert torch.equal(model.conv1.weight, before)


def test_imagenet_input_normalises_and_upsamples():
    seen = {}

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen["x"] = x
            return x.mean((2, 3))

    wrapped = ImageNetInput(Probe(), size=8)
    wrapped(torch.full((1, 3, 4, 4), 0.485))
    assert seen["x"].shape == (1, 3, 8, 8)
    assert torch.allclose(seen["x"][0, 0], torch.zeros(8, 8), atol=1e-6)
