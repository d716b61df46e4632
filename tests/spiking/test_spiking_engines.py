"""The numba and Brian2 engines agree (same connectivity, same initial state, same drive)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from reference_spiking import RECURRENT, feedforward_connectivity

from neurolearn.errors import MissingDependencyError
from neurolearn.spiking import (
    SpikingEINetwork,
    first_divergence,
    random_connectivity,
    standalone_ensemble,
    standalone_scan,
)
from neurolearn.spiking._brian2 import import_brian2, required_brian2


def _pair(duration_ms=500.0, **kwargs):
    out = {}
    for backend in ("numba", "brian2"):
        net = SpikingEINetwork(backend=backend, **kwargs)
        out[backend] = (net.run(duration_ms), net)
    return out


@pytest.mark.parametrize(
    "synapse, delay_ms, weights",
    [
        ("conductance", 0.0, dict(w_exc=0.05, w_inh=0.2)),
        ("conductance", 1.5, dict(w_exc=0.05, w_inh=0.2)),
        ("current", 0.0, dict(w_exc=1.0, w_inh=2.0)),
    ],
)
def test_feedforward_spike_times_identical(synapse, delay_ms, weights):
    # deterministic drive (heterogeneous constant biases), feedforward synapses, plastic I -> E
    conn = feedforward_connectivity(40, 10, 0.3, seed=0, **weights)
    kw = dict(
        n_exc=40,
        n_inh=10,
        connectivity=conn,
        synapse=synapse,
        delay_ms=delay_ms,
        bias_mv=11.0,
        bias_spread_mv=4.0,
        input_rate_hz=0.0,
        learning_rate=0.01,
        record_v=5,
        seed=1,
    )
    runs = _pair(**kw)
    (a, net_a), (b, net_b) = runs["numba"], runs["brian2"]
    assert len(a.spike_ids) > 200
    assert first_divergence(a, b) is None
    np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
    np.testing.assert_array_equal(a.spike_ids, b.spike_ids)
    np.testing.assert_allclose(a.v_trace_mv, b.v_trace_mv, atol=1e-9)
    np.testing.assert_allclose(net_a.weights_, net_b.weights_, atol=1e-12)
    assert not np.allclose(net_a.weights_, conn.weight)  # the plasticity path was exercised


def test_recurrent_engines_agree_over_five_seeds(record_property):
    # recurrent, plastic, Poisson-driven network in an irregular state; same draws to both
    kw = RECURRENT
    report = []
    for seed in range(5):
        runs = _pair(seed=seed, **kw)
        a, b = runs["numba"][0], runs["brian2"][0]
        diverged = first_divergence(a, b)
        rate_a, rate_b = a.population_rate_hz(), b.population_rate_hz()
        cv_a, cv_b = a.mean_cv_isi(), b.mean_cv_isi()
        report.append((seed, diverged, rate_a, rate_b, cv_a, cv_b))
        assert rate_a > 2.0 and cv_a > 0.3  # an irregular, active regime, not a silent one
        # identical until the first divergence, which chaos may bring but not within 100 ms
        assert diverged is None or diverged * a.dt_ms >= 100.0
        assert abs(rate_a - rate_b) <= 0.02 * rate_b
        assert abs(cv_a - cv_b) <= 0.05 * cv_b
    record_property("first_divergence_steps", [r[1] for r in report])
    print("seed, first divergence step, rate numba/brian2 (Hz), CV numba/brian2:", report)


def test_brian2_version_requirement_text():
    assert required_brian2((3, 11)).startswith("brian2>=2.9,<2.10")
    assert required_brian2((3, 13)) == "brian2>=2.10"
    assert import_brian2().__version__


def test_missing_brian2_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "brian2", None)  # makes `import brian2` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"install brian2>=2\.\d+"):
        SpikingEINetwork(n_exc=4, n_inh=1, backend="brian2", seed=0).run(1.0)


def test_old_brian2_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "brian2", types.SimpleNamespace(__version__="2.5.1"))
    with pytest.raises(MissingDependencyError, match=r"Brian2 2\.5\.1 is too old.*brian2>=2\."):
        import_brian2()


def test_brian2_that_fails_to_import_is_explained(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "brian2":
            raise AttributeError("module 'numpy' has no attribute 'something' (numpy too new)")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "brian2", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(MissingDependencyError, match="failed to import.*install brian2"):
        import_brian2()


def test_brian2_static_build_refuses_a_plastic_run():
    net = SpikingEINetwork(n_exc=8, n_inh=2, plasticity=False, backend="brian2", seed=0)
    net.run(1.0)
    with pytest.raises(ValueError, match="built without plastic synapses"):
        net.run(1.0, plasticity=True)


@pytest.mark.slow
def test_standalone_scan_matches_numba_per_point(tmp_path):
    # one C++ build, three weight settings through run_args; each equals a numba run
    kw = dict(
        n_exc=40,
        n_inh=10,
        connection_prob=0.2,
        input_rate_hz=800.0,
        plasticity=False,
        record_v=0,
        seed=4,
    )
    points = [{}, {"w_exc": 0.03}, {"w_exc": 0.03, "bias_mv": 12.0}]
    out = standalone_scan(
        SpikingEINetwork(backend="brian2", **kw), 300.0, points, directory=tmp_path / "project"
    )
    assert out["build_s"] > 0 and len(out["run_s"]) == 3
    for point, rec in zip(points, out["records"], strict=True):
        # run_args sets one bias for every neuron: the numba twin has no bias spread then
        extra = {"bias_spread_mv": 0.0} if "bias_mv" in point else {}
        ref = SpikingEINetwork(**dict(kw, **point, **extra)).run(300.0)
        assert len(ref.spike_ids) > 50
        np.testing.assert_array_equal(rec.spike_steps, ref.spike_steps)
        np.testing.assert_array_equal(rec.spike_ids, ref.spike_ids)
    assert len(out["records"][2].spike_ids) != len(out["records"][1].spike_ids)
    with pytest.raises(ValueError, match="unknown scan key"):
        standalone_scan(SpikingEINetwork(backend="brian2", **kw), 10.0, [{"tau_m_ms": 1.0}])


@pytest.mark.slow
def test_brian2_cython_target_matches_numba():
    # compiled once into brian2_cache_dir(); later runs reuse the cache
    conn = feedforward_connectivity(40, 10, 0.3, seed=0)
    kw = dict(
        n_exc=40,
        n_inh=10,
        connectivity=conn,
        bias_mv=11.0,
        bias_spread_mv=4.0,
        input_rate_hz=500.0,
        learning_rate=0.01,
        record_v=0,
        seed=1,
    )
    a = SpikingEINetwork(**kw).run(300.0)
    b = SpikingEINetwork(backend="brian2", brian2_target="cython", **kw).run(300.0)
    assert first_divergence(a, b) is None and len(a.spike_ids) > 50


@pytest.mark.slow
def test_standalone_ensemble_matches_numba_per_network(tmp_path):
    # one C++ build, three seeds with plasticity on; each equals its numba run, spikes and weights
    conn = random_connectivity(
        40, 10, 0.2, w_exc=0.015, w_inh=0.15, w_inh_exc=0.05, rng=np.random.default_rng(0)
    )
    kw = dict(n_exc=40, n_inh=10, connectivity=conn, record_v=0, learning_rate=2e-2)
    nets = [SpikingEINetwork(seed=s, **kw) for s in range(3)]
    out = standalone_ensemble(nets, 300.0, directory=tmp_path / "project")
    assert out["build_s"] > 0 and len(out["run_s"]) == len(out["binary_s"]) == 3
    counts = set()
    for net, rec, w in zip(nets, out["records"], out["weights"], strict=True):
        assert net.step_ == 0  # the networks themselves are not advanced
        ref = SpikingEINetwork(seed=net.seed, **kw)
        ref_rec = ref.run(300.0)
        assert len(ref_rec.spike_ids) > 100
        np.testing.assert_array_equal(rec.spike_steps, ref_rec.spike_steps)
        np.testing.assert_array_equal(rec.spike_ids, ref_rec.spike_ids)
        np.testing.assert_allclose(w, ref.weights_, rtol=0, atol=1e-12)
        assert np.abs(w - conn.weight).max() > 0.1  # the I -> E weights learned
        counts.add(len(rec.spike_ids))
    assert len(counts) == 3  # the seeds differ
    # the per-network arrays are removed after each run; the project's own stay
    left = {p.name for p in (tmp_path / "project" / "static_arrays").iterdir()}
    assert not any(name.startswith("init_") for name in left)


def test_standalone_ensemble_refuses_what_needs_a_rebuild():
    kw = dict(n_exc=8, n_inh=2, record_v=0)
    with pytest.raises(ValueError, match="other synapses"):
        standalone_ensemble([SpikingEINetwork(seed=s, **kw) for s in (0, 1)], 10.0)
    conn = random_connectivity(
        8, 2, 0.3, w_exc=0.015, w_inh=0.15, w_inh_exc=0.05, rng=np.random.default_rng(0)
    )
    nets = [SpikingEINetwork(connectivity=conn, seed=0, **kw)]
    nets.append(SpikingEINetwork(connectivity=conn, seed=1, tau_m_ms=10.0, **kw))
    with pytest.raises(ValueError, match=r"differs from network 0 in \['tau_m_ms'\]"):
        standalone_ensemble(nets, 10.0)
    nets[1].set_params(tau_m_ms=20.0)
    nets[1].run(1.0)
    with pytest.raises(ValueError, match="network 1 has already run 10 steps"):
        standalone_ensemble(nets, 10.0)
    static = [SpikingEINetwork(connectivity=conn, seed=0, plasticity=False, **kw)]
    with pytest.raises(ValueError, match="plasticity=True needs networks built"):
        standalone_ensemble(static, 10.0, plasticity=True)
    with pytest.raises(ValueError, match="must not be empty"):
        standalone_ensemble([], 10.0)
