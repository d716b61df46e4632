"""Every public model of the spiking family passes the shared API checks; its parameters are
declared once (class, spec tables, docs) and ``backend`` means the engine, as in every family."""

import dataclasses
import inspect

import numpy as np
import pytest

import neurolearn as nl
from neurolearn import specs
from neurolearn.errors import BackendError, SpecError
from neurolearn.spiking import SpikingEINetwork, SpikingReservoir
from neurolearn.spiking import _declared as D
from neurolearn.spiking.experiment import InhibitorySTDP, SpikingEISpec
from neurolearn.spiking.reservoir_experiment import SpikingReservoirSpec
from tests.estimator_checks import Case, check_estimator

U = np.random.default_rng(0).uniform(-0.8, 0.8, (30, 1))


def _spikes(net):
    rec = net.run(40.0)
    return rec.spike_steps, rec.spike_ids, net.weights_.copy()


CASES = [
    Case(
        SpikingEINetwork,
        dict(n_exc=32, n_inh=8, connection_prob=0.3, learning_rate=0.01, seed=0),
        _spikes,
        bad=("tau_m_ms", -1.0),
        structural=("w_exc", 0.03),
        runtime=("tau_m_ms", 10.0),
    ),
    Case(
        SpikingEINetwork,
        dict(n_exc=32, n_inh=8, connection_prob=0.3, learning_rate=0.01, seed=0, backend="torch"),
        _spikes,
        bad=("dtype", "float16"),
        structural=("dtype", "float64"),
        runtime=("learning_rate", 0.05),
    ),
    Case(
        SpikingReservoir,
        dict(n=40, step_ms=5.0, seed=0),
        lambda m: m.run(U),
        bad=("step_ms", 0.0),
        structural=("input_scale_mv", 5.0),
        runtime=("filter_tau_ms", 5.0),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_spiking_models_pass_the_estimator_checks(case):
    check_estimator(case)


def _spec_fields(cls):
    return {f.name: f for f in dataclasses.fields(cls)}


def _spec_default(field):
    """The spec default as the Python value it stands for (``''`` is None for dtype)."""
    if field.default is not dataclasses.MISSING:
        value = field.default
    else:
        value = field.default_factory()
    return D.from_spec({field.name: value})[field.name]


def test_spec_keys_shared_with_the_network_have_its_defaults():
    # one declaration: a key of the spiking-ei table (or of the iSTDP rule) that is a parameter
    # of SpikingEINetwork starts from the constructor's default
    sig = inspect.signature(SpikingEINetwork)
    shared = 0
    for table in (SpikingEISpec, InhibitorySTDP):
        for name, field in _spec_fields(table).items():
            assert name in sig.parameters, f"{table.__name__}.{name} is not a network parameter"
            assert _spec_default(field) == sig.parameters[name].default, name
            shared += 1
    assert shared == len(sig.parameters) - 3  # all but plasticity, connectivity and seed


def test_reservoir_spec_defaults_are_the_reservoir_defaults():
    res = inspect.signature(SpikingReservoir).parameters
    net = inspect.signature(SpikingEINetwork).parameters
    for name, field in _spec_fields(SpikingReservoirSpec).items():
        if name == "adapt_steps":
            continue
        if name in res:
            expected = res[name].default
        else:
            expected = SpikingReservoir.NETWORK_DEFAULTS.get(name, net[name].default)
        assert _spec_default(field) == expected, name
    # the reservoir's own network defaults differ from the network's (the point of declaring
    # them in one place): stronger weights, suprathreshold biases, no background drive
    assert SpikingReservoirSpec().w_exc == 0.02 != net["w_exc"].default
    assert SpikingReservoirSpec().input_rate_hz == 0.0


def test_the_docstring_lists_every_declared_parameter():
    for cls in (SpikingEINetwork, SpikingReservoir):
        for name in cls.params:
            assert f"\n    {name} : " in cls.__doc__, (cls.__name__, name)


@pytest.mark.parametrize("cls", [SpikingEINetwork, SpikingReservoir])
@pytest.mark.parametrize("backend", ["numpy", "nest"])
def test_a_backend_without_an_engine_is_refused_naming_the_parameter(cls, backend):
    small = dict(n_exc=8, n_inh=2) if cls is SpikingEINetwork else dict(n=10)
    model = cls(**small, backend=backend, seed=0)
    with pytest.raises(
        BackendError,
        match=f"'backend' parameter of {cls.__name__} must be one "
        f"of 'numba', 'brian2', 'torch' .*Got '{backend}' instead",
    ):
        model.initialize()


def test_backend_none_is_the_numba_engine():
    kw = dict(n_exc=32, n_inh=8, seed=3)
    a = SpikingEINetwork(**kw, backend=None).run(30.0)
    b = SpikingEINetwork(**kw, backend="numba").run(30.0)
    np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
    np.testing.assert_array_equal(a.spike_ids, b.spike_ids)


def test_build_is_a_deprecated_alias_of_initialize():
    new = SpikingEINetwork(n_exc=8, n_inh=2, seed=0).initialize()
    with pytest.warns(DeprecationWarning, match=r"build\(\) is deprecated; call initialize"):
        old = SpikingEINetwork(n_exc=8, n_inh=2, seed=0).build()
    np.testing.assert_array_equal(old.weights_, new.weights_)
    np.testing.assert_array_equal(old.v_init_mv_, new.v_init_mv_)


def test_spec_key_engine_is_a_deprecated_name_of_backend():
    with pytest.warns(DeprecationWarning, match="network.engine is deprecated"):
        old = specs.load_model("spiking-reservoir", ["network.engine=brian2"])
    assert old.network.backend == "brian2"
    assert specs.load_model("spiking-reservoir", ["network.backend=brian2"]) == old
    with pytest.raises(SpecError, match="network.engine: the deprecated name of backend"):
        specs.load_model("spiking-ei", ["network.engine=brian2", "network.backend=numba"])
    with pytest.raises(SpecError, match="network.engine: must be one of 'numba', 'brian2'"):
        specs.load_model("spiking-ei", ["network.engine=numpy"])


def test_run_backend_other_than_numba_is_refused_before_running():
    with pytest.raises(BackendError, match="'backend' parameter of a spiking run must be 'numba'"):
        nl.run("spiking-ei", "rate-homeostasis", backend="numpy")
