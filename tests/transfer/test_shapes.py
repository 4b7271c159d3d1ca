"""The shape calculator: spec errors, the Waterloo A5 §1 answers by hand, torch agreement."""

from pathlib import Path

import pytest
import torch
from torch import nn

from practica import cli
from practica.shapes import (
    SpecError,
    analyse,
    analyse_model,
    load_spec,
    out_size,
    parse_spec,
    to_torch,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "waterloo-a5-cnn.toml"


def spec_text(*layers: str, head: str = 'input = [3, 16, 16]') -> str:
    return head + "\n" + "\n".join(f"[[layer]]\n{body}" for body in layers)


@pytest.mark.parametrize("text, message", [
    ("input = [3, 16", "not valid TOML"),
    ('input = [3, 16]\n[[layer]]\ntype="fc"\noutputs=2', "input must be [channels"),
    ("input = [3, 16, 16]", "no layers"),
    (spec_text('type = "dense"'), "type must be one of conv, pool, fc"),
    (spec_text('type = "conv"\nsize = 3'), "missing key 'filters'"),
    (spec_text('type = "conv"\nfilters = 4'), "missing key 'size'"),
    (spec_text('type = "conv"\nfilters = 4\nsize = [3, 3, 3]'), "size must be an integer"),
    (spec_text('type = "conv"\nfilters = 0\nsize = 3'), "filters must be a positive"),
    (spec_text('type = "conv"\nfilters = 4\nsize = 3\nkernel = 3'), "unknown key 'kernel'"),
    (spec_text('type = "conv"\nfilters = 4\nsize = 3\nstride = 2\npadding = "same"'),
     "padding 'same' needs stride 1"),
    (spec_text('type = "pool"\nsize = 2\nmode = "median"'), "pool mode must be max or avg"),
    (spec_text('type = "fc"'), "missing key 'outputs'"),
    ('input = [3, 16, 16]\nlayers = 2', "unknown top-level key 'layers'"),
])
def test_spec_errors_are_one_clear_line(text, message):
    with pytest.raises(SpecError, match=None) as info:
        parse_spec(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_impossible_layers_are_reported_at_analysis():
    with pytest.raises(SpecError, match="does not fit the 16×16 input"):
        analyse(parse_spec(spec_text('type = "conv"\nfilters = 4\nsize = 17')))
    with pytest.raises(SpecError, match="cannot follow a fully connected"):
        analyse(parse_spec(spec_text('type = "fc"\noutputs = 4',
                                     'type = "pool"\nsize = 2')))


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError, match="cannot read spec"):
        load_spec(tmp_path / "nope.toml")


def test_output_size_formula():
    assert out_size(256, 3, 1, 0) == 254
    assert out_size(254, 5, 3, 0) == 84  # ⌊249/3⌋ + 1
    assert out_size(7, 3, 1, 1) == 7  # padding (k−1)/2 keeps the size (question 1)


def test_waterloo_questions_2_and_3_by_hand():
    rows = {r.name: r for r in analyse(load_spec(EXAMPLE))}
    # Q2, no padding: 256 −3+1 = 254; ⌊(254−5)/3⌋+1 = 84; 84/2 = 42; 42−3+1 = 40; 40/2, 40/4
    assert rows["conv1"].shape == (100, 254, 254)
    assert rows["conv2"].shape == (50, 84, 84)
    assert rows["pool1"].shape == (50, 42, 42)
    assert rows["conv3"].shape == (30, 40, 40)
    assert rows["pool2"].shape == (30, 20, 10)
    # Q3: r = 1 → 1+2·1 = 3 → 3+4·1 = 7 (jump 3) → 7+1·3 = 10 (jump 6) → 10+2·6 = 22
    assert [rows[n].rf for n in ("conv1", "conv2", "pool1", "conv3")] == [
        (3, 3), (7, 7), (10, 10), (22, 22)]
    assert rows["conv3"].jump == (6, 6)
    # without padding: 3·3·3·100 + 5·5·100·50 + 3·3·50·30 + 30·20·10·10, no biases
    assert sum(r.params for r in rows.values()) == 2700 + 125000 + 13500 + 60000
    assert all(r.biases == 0 for r in rows.values())
    assert rows["conv1"].macs == 254 * 254 * 100 * 27


def test_waterloo_question_4_by_hand():
    rows = {r.name: r for r in analyse(load_spec(EXAMPLE), same_size=True)}
    assert rows["conv2"].shape == (50, 256, 256) and rows["pool2"].shape == (30, 64, 32)
    # 2700 + 125000 + 13500 + 30·64·32·10 = 755,600
    assert sum(r.params for r in rows.values()) == 755_600


def test_cli_prints_the_table(capsys):
    assert cli.main(["shapes", str(EXAMPLE), "--same-size"]) == 0
    out = capsys.readouterr().out
    assert "755,600" in out and "22×22" in out
    assert cli.main(["shapes", "no-such-model"]) == 2


def test_torch_path_agrees_with_spec_path():
    text = spec_text('type = "conv"\nfilters = 6\nsize = [3, 5]\nstride = [1, 2]\npadding = [1, 0]',
                     'type = "pool"\nsize = 2',
                     'type = "conv"\nfilters = 4\nsize = 3\npadding = "same"\nbias = false',
                     'type = "pool"\nsize = [2, 1]\nstride = [2, 1]',
                     'type = "fc"\noutputs = 7', 'type = "fc"\noutputs = 3\nbias = false',
                     head="input = [2, 20, 24]")
    spec = parse_spec(text)
    model = to_torch(spec)
    by_spec, by_model = analyse(spec), analyse_model(model, spec.input)
    strip = [(r.kind, r.shape, r.rf, r.params, r.biases, r.macs) for r in by_spec]
    assert strip == [(r.kind, r.shape, r.rf, r.params, r.biases, r.macs) for r in by_model]
    assert sum(r.params_with_bias for r in by_model) == sum(p.numel() for p in model.parameters())
    assert model(torch.zeros(1, *spec.input)).shape == (1, 3)


def test_waterloo_spec_through_torch_on_a_smaller_input():
    spec = load_spec(EXAMPLE)
    small = parse_spec(EXAMPLE.read_text().replace("[3, 256, 256]", "[3, 64, 64]"))
    rows = analyse_model(to_torch(small), small.input)
    assert [r.shape for r in rows] == [r.shape for r in analyse(small)]
    assert [r.rf for r in rows][:4] == [r.rf for r in analyse(spec)][:4]


def test_receptive_field_stops_at_a_skip_connection():
    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            y = self.a(x)
            return self.b(y) + self.b(x)

    rows = analyse_model(Skip(), (1, 8, 8))
    assert rows[0].rf == (3, 3) and rows[1].rf == (5, 5) and rows[2].rf is None
