"""Recording: construction, validation with clear errors, NWB round trips."""

from datetime import UTC

import numpy as np
import pytest

from neurolearn.errors import ParameterError
from neurolearn.rnnfit import RateCircuit, Recording


def _rec(rng, c=3, t=6, k=4, n=10):
    return Recording(
        rates=rng.random((c, t, k)) * 20,
        dt_ms=10.0,
        recorded=rng.choice(n, k, replace=False),
        n_neurons=n,
        inputs=rng.normal(size=(c, t, 2)),
        outputs=rng.normal(size=(c, t, 1)),
        labels=np.arange(c) * 0.5,
        go_step=2,
    )


def test_fields_and_selection(rng):
    rec = _rec(rng)
    assert (rec.n_conditions, rec.n_steps, rec.n_recorded) == (3, 6, 4)
    assert rec.recorded_fraction == pytest.approx(0.4)
    sub = rec.select([0, 2])
    np.testing.assert_array_equal(sub.rates, rec.rates[[0, 2]])
    np.testing.assert_array_equal(sub.labels, [0.0, 1.0])
    half = rec.subsample(0.5, seed=0)
    assert half.n_recorded == 2 and set(half.recorded) <= set(rec.recorded)
    col = [list(rec.recorded).index(i) for i in half.recorded]
    np.testing.assert_array_equal(half.rates, rec.rates[:, :, col])


def test_ragged_rates_named():
    ragged = [np.zeros((5, 3)), np.zeros((4, 3))]
    with pytest.raises(ParameterError, match="'rates' field of Recording is ragged"):
        Recording(rates=ragged, dt_ms=1.0)


def test_nan_named_with_location(rng):
    rates = rng.random((2, 5, 3))
    rates[1, 3, 2] = np.nan
    with pytest.raises(ParameterError, match="'rates' field .* condition 1, step 3, column 2"):
        Recording(rates=rates, dt_ms=1.0)
    outputs = np.zeros((2, 5, 1))
    outputs[0, 0, 0] = np.inf
    with pytest.raises(ParameterError, match="'outputs' field of Recording must be finite"):
        Recording(rates=np.zeros((2, 5, 3)), dt_ms=1.0, outputs=outputs)


def test_recorded_indices_validated():
    with pytest.raises(ParameterError, match="'recorded' field .* index 12 out of range"):
        Recording(rates=np.zeros((1, 3, 2)), dt_ms=1.0, recorded=[3, 12], n_neurons=10)
    with pytest.raises(ParameterError, match="'recorded' field .* repeats"):
        Recording(rates=np.zeros((1, 3, 2)), dt_ms=1.0, recorded=[3, 3], n_neurons=10)
    with pytest.raises(ParameterError, match="one circuit index per recorded neuron"):
        Recording(rates=np.zeros((1, 3, 2)), dt_ms=1.0, recorded=[1], n_neurons=10)


def test_shape_disagreements_named():
    with pytest.raises(ParameterError, match="'outputs' field .* 4 time steps but 'rates' has 3"):
        Recording(rates=np.zeros((1, 3, 2)), dt_ms=1.0, outputs=np.zeros((1, 4, 1)))
    with pytest.raises(ParameterError, match="'inputs' field .* 2 conditions"):
        Recording(rates=np.zeros((1, 3, 2)), dt_ms=1.0, inputs=np.zeros((2, 3, 1)))
    with pytest.raises(ParameterError, match=r"shape \(conditions, time"):
        Recording(rates=np.zeros((3, 2)), dt_ms=1.0)
    with pytest.raises(ParameterError, match="'dt_ms' parameter of Recording"):
        Recording(rates=np.zeros((1, 3, 2)), dt_ms=0.0)


def test_spike_counts_to_rates():
    rec = Recording.from_spike_counts(np.full((1, 4, 2), 3.0), dt_ms=20.0)
    np.testing.assert_allclose(rec.rates, 150.0)
    with pytest.raises(ParameterError, match="'counts'"):
        Recording.from_spike_counts(-np.ones((1, 4, 2)), dt_ms=20.0)


def test_from_circuit_records_chosen_fraction(rng):
    w = rng.normal(size=(20, 20)) * 0.1
    c = RateCircuit(weights=w, readout=rng.normal(size=(2, 20)))
    x = c.simulate(rng.normal(size=(3, 20)), np.ones(8), dt_ms=10.0)
    rec = Recording.from_circuit(c, x, dt_ms=10.0, recorded_fraction=0.25, seed=1)
    assert rec.n_recorded == 5 and rec.n_neurons == 20
    np.testing.assert_allclose(rec.rates, c.rates(x)[:, :, rec.recorded])
    np.testing.assert_allclose(rec.outputs, c.outputs(x))
    again = Recording.from_circuit(c, x, dt_ms=10.0, recorded_fraction=0.25, seed=1)
    np.testing.assert_array_equal(rec.recorded, again.recorded)
    with pytest.raises(ParameterError, match="recorded_fraction"):
        Recording.from_circuit(c, x, dt_ms=10.0, recorded_fraction=1.5)


def test_nwb_round_trip(rng, tmp_path):
    rec = _rec(rng)
    path = tmp_path / "rec.nwb"
    rec.to_nwb(path)
    back = Recording.from_nwb(path)
    for name in ("rates", "inputs", "outputs", "labels", "recorded"):
        np.testing.assert_array_equal(getattr(back, name), getattr(rec, name))
    assert (back.dt_ms, back.n_neurons, back.go_step) == (rec.dt_ms, rec.n_neurons, rec.go_step)
    with pytest.raises(ParameterError, match="disagrees with the file's time step"):
        Recording.from_nwb(path, dt_ms=5.0)


def test_nwb_units_and_trials_are_binned_and_averaged(tmp_path):
    from datetime import datetime

    import pynwb

    nwb = pynwb.NWBFile(
        session_description="t", identifier="x", session_start_time=datetime(2020, 1, 1, tzinfo=UTC)
    )
    nwb.add_trial_column(name="reach", description="reach direction")
    for start, reach in ((0.0, 0.0), (1.0, 90.0), (2.0, 0.0)):
        nwb.add_trial(start_time=start, stop_time=start + 0.1, reach=reach)
    # unit 0: one spike in bin 0 of every trial; unit 1: two spikes in bin 2 of trial 2 only
    nwb.add_unit(spike_times=[0.005, 1.005, 2.005])
    nwb.add_unit(spike_times=[2.051, 2.052])
    path = tmp_path / "units.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    rec = Recording.from_nwb(path, dt_ms=25.0, condition_column="reach")
    assert rec.rates.shape == (2, 4, 2)
    np.testing.assert_array_equal(rec.labels, [0.0, 90.0])
    np.testing.assert_allclose(rec.rates[:, 0, 0], [40.0, 40.0])  # 1 spike / 25 ms
    np.testing.assert_allclose(rec.rates[0, 2, 1], 40.0)  # 2 spikes in 1 of 2 trials
    assert rec.rates[1, :, 1].sum() == 0
    with pytest.raises(ParameterError, match="needs a bin width"):
        Recording.from_nwb(path)
    with pytest.raises(ParameterError, match="no column 'label'"):
        Recording.from_nwb(path, dt_ms=25.0)
