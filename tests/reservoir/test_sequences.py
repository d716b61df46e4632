"""Many and variable-length sequences: one kernel call, per-sequence results, classification."""

import json
import subprocess
import sys

import numpy as np
import pytest

from neurolearn.errors import ParameterError
from neurolearn.reservoir import ESN, EIReservoir, Readout
from neurolearn.reservoir.protocols import classify_sequences
from neurolearn.tasks.sequences import make_vowels


@pytest.mark.parametrize(
    "model",
    [
        ESN(n=40, leak=0.5, n_inputs=2, seed=0),
        EIReservoir(n=50, in_degree_exc=6, in_degree_inh=6, n_inputs=2, seed=0),
    ],
    ids=["esn", "ei"],
)
@pytest.mark.parametrize("count", [3, 9])
def test_variable_length_run_equals_per_sequence_runs(model, count, monkeypatch):
    """Padded into one kernel call; each sequence's states are those of its own run (9
    sequences take the sparse-times-block kernel, whose sums differ by rounding only)."""
    from neurolearn.reservoir import _engine

    calls = []
    real = _engine.simulate
    monkeypatch.setattr(
        "neurolearn.reservoir._base.simulate", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    rng = np.random.default_rng(count)
    seqs = [rng.uniform(-1, 1, (int(rng.integers(5, 40)), 2)) for _ in range(count)]
    together = model.run(seqs)
    assert len(calls) == 1  # one call for the whole list
    for seq, states in zip(seqs, together, strict=True):
        np.testing.assert_allclose(states, model.run(seq), rtol=0, atol=1e-12)
    assert model.last_state_ is not None  # from the last single run


def test_list_of_equal_lengths_keeps_the_last_state_and_ragged_lists_do_not():
    esn = ESN(n=20, seed=0)
    u = np.random.default_rng(2).uniform(-1, 1, (2, 5, 1))
    states = esn.run([u[0], u[1]])
    np.testing.assert_array_equal(esn.last_state_[0], [states[0][-1], states[1][-1]])
    # continuing from it equals running the whole sequences
    more = esn.run([u[0], u[1]], continue_state=True)
    whole = esn.run(np.concatenate([u, u], axis=1))
    np.testing.assert_allclose(more[1], whole[1, 5:], rtol=0, atol=1e-15)
    esn.run([np.ones((5, 1)), np.ones((3, 1))])
    assert esn.last_state_ is None


def test_readout_on_variable_length_sequences_equals_the_concatenated_fit():
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(n, 4)) for n in (30, 12, 51)]
    ys = [x @ np.ones((4, 1)) + rng.normal(0, 0.1, (len(x), 1)) for x in xs]
    listed = Readout(ridge=1e-3, washout=5).fit(xs, ys)
    joined = Readout(ridge=1e-3).fit(
        np.concatenate([x[5:] for x in xs]), np.concatenate([y[5:] for y in ys])
    )
    np.testing.assert_allclose(listed.coef_, joined.coef_, rtol=1e-12)


def test_bad_sequence_lists_are_refused():
    esn = ESN(n=10, n_inputs=2, seed=0)
    with pytest.raises(ParameterError, match="non-empty list"):
        esn.run([])
    with pytest.raises(ParameterError, match=r"'u\[1\]'"):
        esn.run([np.zeros((4, 2)), np.zeros((4, 3))])


def test_make_vowels_has_the_benchmark_shapes_and_is_seeded():
    split = make_vowels(seed=3)
    assert len(split.train) == 270 and len(split.test) == 370
    lengths = [len(x) for x in split.train + split.test]
    assert min(lengths) >= 7 and max(lengths) <= 29 and len(set(lengths)) > 15
    assert all(x.shape[1] == 12 for x in split.train)
    np.testing.assert_array_equal(np.bincount(split.train_labels), [30] * 9)
    again = make_vowels(seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(split.test, again.test, strict=True))


def test_reservoir_features_classify_what_time_averaged_inputs_cannot():
    """The classes differ in how a sequence moves, not in its mean: a readout on the mean
    input is near chance (1/9) while the reservoir's mean state separates them (measured
    0.30 and 0.97 at these settings, seed 0)."""
    split = make_vowels(seed=0)
    classes = np.arange(9)

    def mean_input(seqs):
        return np.stack([x.mean(axis=0) for x in seqs])

    onehot = (split.train_labels[:, None] == classes).astype(float)
    base = Readout(ridge=1e-3).fit(mean_input(split.train), onehot)
    base_acc = np.mean(
        classes[np.argmax(base.predict(mean_input(split.test)), 1)] == split.test_labels
    )
    esn = ESN(n=300, n_inputs=12, input_scaling=0.3, spectral_radius=0.9, leak=0.5, seed=0)
    out = classify_sequences(esn, *split, ridge=1e-3)
    assert base_acc < 0.5
    assert out["accuracy"] > 0.9
    assert out["confusion"].sum() == 370 and np.trace(out["confusion"]) == round(
        370 * out["accuracy"]
    )


def test_sequence_task_runs_from_the_command_line(tmp_path):
    cmd = [sys.executable, "-m", "neurolearn", "run", "esn", "vowels", "--json"]
    cmd += ["--set", "network.n=60", "--set", "task.n_test=40", "--set", "task.n_train_per_class=5"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["status"] == "ok" and 0 <= metrics["test_accuracy"] <= 1
    bad = subprocess.run(
        [*cmd[:6], "--set", "task.max_length=5"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "task.max_length" in bad.stderr
