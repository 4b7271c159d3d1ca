from dataclasses import dataclass

import pytest

from practica.config import apply_overrides, load_toml, option, parse_set, positive, resolve
from practica.errors import ConfigError


@dataclass
class Demo:
    lr: float = positive("learning rate", 1e-3)
    steps: int = positive("steps", 100)
    hidden: list[int] = option([100], "widths", check=lambda v: v > 0, check_msg="must be > 0")
    activation: str = option("elu", "activation", choices=("elu", "tanh"))
    augment: bool = option(False, "augment")
    clip: float | None = option(None, "clip")


def test_defaults_are_the_dataclass_values():
    cfg = resolve(Demo())
    assert (cfg.lr, cfg.steps, cfg.hidden, cfg.activation, cfg.augment) == \
        (1e-3, 100, [100], "elu", False)


def test_set_pairs_are_coerced_to_field_types():
    cfg = resolve(Demo(), set_pairs=["lr=0.5", "steps=2_000", "hidden=512,256",
                                     "activation=tanh", "augment=yes", "clip=none"])
    assert cfg.lr == 0.5 and cfg.steps == 2000 and cfg.hidden == [512, 256]
    assert cfg.activation == "tanh" and cfg.augment is True and cfg.clip is None
    assert resolve(Demo(), set_pairs=["clip=1.5"]).clip == 1.5


@dataclass
class Words:
    prompts: list[str] = option(["a"], "prompts")
    widths: list[int] = option([1], "widths")


@pytest.mark.parametrize("pair, expected", [
    ('prompts=["Hello, world", "x"]', ["Hello, world", "x"]),  # commas inside items
    ("prompts=['a, b']", ["a, b"]),
    ("prompts=[rnn, lstm]", ["rnn", "lstm"]),  # bare words, as before
    ("prompts=rnn,lstm", ["rnn", "lstm"]),
    ("widths=[1, 2]", [1, 2]),
    ("widths=[]", []),
])
def test_set_lists_accept_toml_arrays(pair, expected):
    key = pair.split("=", 1)[0]
    assert getattr(resolve(Words(), set_pairs=[pair]), key) == expected


@pytest.mark.parametrize("pair", ['prompts=["a, b', 'prompts=["a", b]', "widths=[1, x]"])
def test_malformed_set_lists_are_refused(pair):
    with pytest.raises(ConfigError, match="prompts|widths"):
        resolve(Words(), set_pairs=[pair])


def test_toml_then_set_order(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('lr = 0.1\nhidden = [10, 20]\nsteps = 7\n')
    cfg = resolve(Demo(), path, ["steps=9"])
    assert (cfg.lr, cfg.hidden, cfg.steps) == (0.1, [10, 20], 9)


@pytest.mark.parametrize("pair, message", [
    ("lr=abc", "lr: expected a number"),
    ("steps=1.5", "steps: expected an integer"),
    ("steps=0", "steps: 0 must be > 0"),
    ("hidden=10,-1", "must be > 0"),
    ("activation=sigmoid", "not one of: elu, tanh"),
    ("augment=maybe", "expected true or false"),
    ("nope=1", "unknown config key 'nope'"),
    ("novalue", "expects key=value"),
])
def test_bad_values_give_one_line_errors(pair, message):
    with pytest.raises(ConfigError, match=message) as info:
        resolve(Demo(), set_pairs=[pair])
    assert "\n" not in str(info.value)


def test_bad_toml_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(bad)
    nested = tmp_path / "nested.toml"
    nested.write_text("[model]\nlr = 1\n")
    with pytest.raises(ConfigError, match="nested table"):
        load_toml(nested)
    typed = tmp_path / "typed.toml"
    typed.write_text('steps = "many"\n')
    with pytest.raises(ConfigError, match="steps: expected an integer"):
        resolve(Demo(), typed)


def test_boolean_is_not_an_integer():
    with pytest.raises(ConfigError):
        apply_overrides(Demo(), {"steps": True})


def test_parse_set_normalises_dashes():
    assert parse_set(["eval-every=5"]) == {"eval_every": "5"}


def test_every_registered_experiment_has_valid_defaults_and_smoke():
    from practica.experiments.registry import REGISTRY

    for exp in REGISTRY.values():
        exp.resolve_config()
        exp.resolve_config(smoke=True)
