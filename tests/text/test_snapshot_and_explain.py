"""The min-char-rnn snapshot loader (real layout, malicious files) and the weight analysis."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

from practica.data.char_rnn_snapshot import load_snapshot, read_npz
from practica.errors import DataError, PracticaError
from practica.text import explain as ex

from .snapshot_fixture import (
    npy_bytes,
    object_npy,
    py2_dict_pickle,
    random_params,
    write_snapshot,
)

CHARS = "\n !:ab"


def test_snapshot_in_the_real_layout(tmp_path):
    params = random_params(len(CHARS), 3)
    path = write_snapshot(tmp_path / "char-rnn-snapshot.npz", params, CHARS)
    arrays = read_npz(path)
    assert arrays["char_to_ix"].dtype == object and arrays["char_to_ix"].shape == ()
    assert arrays["char_to_ix"].item() == {c: i for i, c in enumerate(CHARS)}
    assert arrays["chars"].dtype == np.dtype("S1")
    snap = load_snapshot(path)
    assert snap.chars == tuple(CHARS) and snap.hidden_size == 3 and snap.vocab_size == 6
    for k, v in params.items():
        np.testing.assert_array_equal(getattr(snap, k), v)


class Boom:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


@pytest.mark.parametrize("payload", [
    pickle.dumps(Boom(), protocol=2),
    # allowed globals only, but the content is a dtype object, not plain data
    pickle.dumps(np.array({"a": np.dtype("f8")}, dtype=object), protocol=2),
])
def test_a_malicious_snapshot_is_refused_without_running_it(tmp_path, monkeypatch, payload):
    monkeypatch.chdir(tmp_path)
    path = write_snapshot(tmp_path / "evil.npz", random_params(len(CHARS), 3), CHARS,
                          char_to_ix_pickle=payload)
    with pytest.raises(DataError, match="refusing"):
        load_snapshot(path)
    assert not (tmp_path / "PWNED").exists()


def test_broken_snapshots_give_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_snapshot(tmp_path / "nothing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable"):
        load_snapshot(tmp_path / "junk.npz")
    params = random_params(len(CHARS), 3)
    params["Whh"] = np.zeros((3, 4))
    with pytest.raises(DataError, match="Whh has shape"):
        load_snapshot(write_snapshot(tmp_path / "shape.npz", params, CHARS))
    with zipfile.ZipFile(tmp_path / "partial.npz", "w") as zf:
        zf.writestr("Wxh.npy", npy_bytes(np.zeros((3, 6))))
        zf.writestr("ix_to_char.npy", object_npy(py2_dict_pickle({0: "a"})))
    with pytest.raises(DataError, match="lacks"):
        load_snapshot(tmp_path / "partial.npz")
    with zipfile.ZipFile(tmp_path / "truncated.npz", "w") as zf:
        zf.writestr("char_to_ix.npy", object_npy(py2_dict_pickle({"a": 0})[:-6]))
    with pytest.raises(DataError, match="not a valid pickle"):
        read_npz(tmp_path / "truncated.npz")


def colon_model() -> tuple[dict[str, np.ndarray], str]:
    """A hand-set RNN over "\\n :ab" whose unit 0 fires on ':' and votes for ' '/'\\n'."""
    params = random_params(len(CHARS), 4, seed=1, scale=0.1)
    colon, space, newline = CHARS.index(":"), CHARS.index(" "), CHARS.index("\n")
    params["Wxh"][0, :] = -3.0
    params["Wxh"][0, colon] = 4.0
    params["Why"][[space, newline], 0] = 3.0
    return params, CHARS


def test_explain_finds_the_colon_unit_and_ablation_removes_the_behaviour():
    params, chars = colon_model()
    rng = np.random.default_rng(0)
    data = rng.choice([3, 4, 5, 1], size=3000, p=[0.1, 0.5, 0.3, 0.1])  # ':', a, b, ' '
    result = ex.explain(params, chars, data, ":", "\n ", top=1, context=10)
    assert result.units[0].index == 0
    assert result.units[0].wxh_trigger == 4.0
    assert result.units[0].why == {"\n": 3.0, " ": 3.0}
    before = result.ablations["original"]["p(S)"]
    after = result.ablations["Why[S, top units] = 0"]["p(S)"]
    assert before > 0.7 and after < 0.5 * before
    assert result.ablations["Wxh[top units, trigger] = 0"]["p(S)"] < 0.6 * before
    text = ex.format_explanation(result)
    assert "unit" in text and "Why[S, top units] = 0" in text
    # the attribution is the first-order effect of switching the unit off
    h = ex.run_batch(params, ex.find_contexts(data, 3, 10, 400))[0]
    p = ex.probs(params, h)
    assert before == pytest.approx(p[[0, 1]].sum(axis=0).mean())
    with pytest.raises(PracticaError):
        ex.explain(params, chars, data, "Q", " ")


def test_zeroed_copies_and_unescape():
    params, _ = colon_model()
    cut = ex.zeroed(params, "Why", [1, 0], [0, 2])
    assert cut["Why"][np.ix_([0, 1], [0, 2])].sum() == 0
    assert params["Why"][1, 0] == 3.0  # the original is untouched
    assert ex.unescape(r"\n\s\\x") == "\n \\x"
