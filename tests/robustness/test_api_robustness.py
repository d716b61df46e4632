"""Malformed Python-API calls in every family, and parameters changed after the first use.

Every bad call must raise a ``ParameterError``/``ParameterTypeError`` (so ``ValueError`` /
``TypeError``) whose message names the parameter; no bad value may reach a kernel. A parameter
changed after the first run must either take effect (the model then equals a new one built with
that value) or raise; it must never be ignored and never crash the interpreter.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from neurolearn.errors import NotFittedError, ParameterError, ParameterTypeError
from neurolearn.reservoir import ESN, EIReservoir, Readout, run_batch
from neurolearn.rnnfit.circuit import RateCircuit
from neurolearn.rnnfit.force import ForceStudent
from neurolearn.rnnfit.recording import Recording
from neurolearn.rnnfit.soc import SOCircuit
from neurolearn.spiking import (
    Connectivity,
    SpikingEINetwork,
    SpikingReservoir,
    filtered_states,
)
from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.tasks.timeseries import lorenz, mackey_glass, narma
from neurolearn.teacher import (
    CurlDescent,
    EnsembleTrainer,
    GradientDescent,
    MinibatchTrainer,
    OnlineTrainer,
    TwoLayerNetwork,
    make_teacher,
)
from neurolearn.teacher.diagnostics import lyapunov_exponent
from neurolearn.teacher.theory import integrate_odes
from neurolearn.zo import MLP, SPSA, minimize, train, zo_gradient

ROOT = Path(__file__).resolve().parents[2]
U = np.random.default_rng(0).uniform(-1, 1, (40, 1))
STRINGS = np.array([["0.1"], ["0.2"]])
OBJECTS = np.array([[0.1], [None]], dtype=object)


def _small_ei(**kw):
    return EIReservoir(n=40, in_degree_exc=5, in_degree_inh=5, seed=0, **kw)


def _teacher_data(n_inputs=6, n_hidden=2):
    return make_teacher_data(
        make_teacher(n_inputs, n_hidden, seed=0), n_train=30, n_test=10, seed=1
    )


def _student(**kw):
    return TwoLayerNetwork(n_inputs=6, n_hidden=3, seed=2, **kw)


def _recording(n_cond=2, t=12, k=2, **kw):
    rng = np.random.default_rng(0)
    return Recording(
        rates=rng.uniform(1, 5, (n_cond, t, k)),
        dt_ms=20.0,
        inputs=np.ones((n_cond, t, 1)),
        outputs=rng.normal(size=(n_cond, t, 1)),
        **kw,
    )


def _fitted_force():
    return ForceStudent(n_units=8, n_epochs=1, seed=0).fit(_recording())


def _bad_teacher_data():
    d = _teacher_data()
    return type(d)(d.x_train, d.y_train.astype(str), d.x_test, d.y_test)


def _ran_esn():
    esn = ESN(n=10, seed=0)
    esn.run(U)
    return esn


# (case id, call, expected exception class, parameter name that the message must contain)
CASES = [
    # -- reservoir -------------------------------------------------------------------------
    ("esn-n-zero", lambda: ESN(n=0).run(U), ParameterError, "n"),
    ("esn-n-float", lambda: ESN(n=2.5).run(U), ParameterTypeError, "n"),
    ("esn-leak-range", lambda: ESN(leak=1.5).run(U), ParameterError, "leak"),
    (
        "esn-radius-nan",
        lambda: ESN(spectral_radius=np.nan).run(U),
        ParameterError,
        "spectral_radius",
    ),
    ("esn-u-complex", lambda: ESN(n=5).run(U + 1j), ParameterTypeError, "u"),
    ("esn-u-strings", lambda: ESN(n=5).run(STRINGS), ParameterTypeError, "u"),
    ("esn-u-objects", lambda: ESN(n=5).run(OBJECTS), ParameterTypeError, "u"),
    ("esn-u-str", lambda: ESN(n=5).run("0.1"), ParameterTypeError, "u"),
    ("esn-u-nan", lambda: ESN(n=5).run(np.full((3, 1), np.nan)), ParameterError, "u"),
    ("esn-u-width", lambda: ESN(n=5).run(np.zeros((3, 2))), ParameterError, "u"),
    ("esn-u-empty", lambda: ESN(n=5).run(np.zeros((0, 1))), ParameterError, "u"),
    (
        "esn-initial-state-shape",
        lambda: ESN(n=5).run(U, initial_state=(np.zeros(3), np.zeros(3))),
        ParameterError,
        "initial_state",
    ),
    (
        "esn-initial-state-type",
        lambda: ESN(n=5).run(U, initial_state=np.zeros(5)),
        ParameterTypeError,
        "initial_state",
    ),
    (
        "esn-initial-state-nan",
        lambda: ESN(n=5).run(U, initial_state=(np.full(5, np.nan), np.zeros(5))),
        ParameterError,
        "initial_state",
    ),
    (
        "esn-initial-state-complex",
        lambda: ESN(n=5).run(U, initial_state=(np.zeros(5) + 1j, np.zeros(5))),
        ParameterTypeError,
        "initial_state",
    ),
    (
        "esn-continue-after-resize",
        lambda: ESN(n=5).run(U, initial_state=_ran_esn().last_state_),
        ParameterError,
        "initial_state",
    ),
    (
        "esn-chunk-steps",
        lambda: list(ESN(n=5).iter_states(U, chunk_steps=0)),
        ParameterError,
        "chunk_steps",
    ),
    (
        "esn-free-run-steps",
        lambda: ESN(n=5, seed=0).free_run(Readout().fit(np.eye(5), np.ones(5)), 0),
        ParameterError,
        "n_steps",
    ),
    (
        "esn-free-run-state",
        lambda: ESN(n=5, seed=0).free_run(
            Readout().fit(np.eye(5), np.ones(5)), 3, initial_state=(np.zeros(4), np.zeros(4))
        ),
        ParameterError,
        "initial_state",
    ),
    (
        "esn-from-weights-square",
        lambda: ESN.from_weights(np.ones((3, 2)), np.ones((3, 1))),
        ParameterError,
        "W",
    ),
    (
        "esn-from-weights-complex",
        lambda: ESN.from_weights(np.eye(3) * 1j, np.ones((3, 1))),
        ParameterTypeError,
        "W",
    ),
    (
        "esn-from-weights-w-in",
        lambda: ESN.from_weights(np.eye(3), np.ones((2, 1))),
        ParameterError,
        "w_in",
    ),
    ("run-batch-empty", lambda: run_batch([], U), ParameterError, "reservoirs"),
    ("run-batch-type", lambda: run_batch([object()], U), ParameterTypeError, "reservoirs"),
    (
        "ei-in-degree",
        lambda: EIReservoir(n=40, in_degree_exc=100).run(U),
        ParameterError,
        "in_degree_exc",
    ),
    ("ei-target-rate", lambda: _small_ei(target_rate=1.5).run(U), ParameterError, "target_rate"),
    (
        "ei-learning-rate",
        lambda: _small_ei(learning_rate=-1.0).adapt(U),
        ParameterError,
        "learning_rate",
    ),
    ("ei-adapt-strings", lambda: _small_ei().adapt(STRINGS), ParameterTypeError, "u"),
    ("ei-adaptation", lambda: _small_ei(adaptation="bogus").adapt(U), ParameterError, "adaptation"),
    ("ei-washout", lambda: _small_ei().mean_rates(U, washout=40), ParameterError, "washout"),
    (
        "readout-empty-states",
        lambda: Readout().fit(np.zeros((0, 5)), np.zeros(0)),
        ParameterError,
        "states",
    ),
    ("readout-empty-list", lambda: Readout().fit([], []), ParameterError, "states"),
    (
        "readout-no-columns",
        lambda: Readout().fit(np.zeros((4, 0)), np.zeros(4)),
        ParameterError,
        "states",
    ),
    (
        "readout-ridge",
        lambda: Readout(ridge=-1.0).fit(np.eye(3), np.ones(3)),
        ParameterError,
        "ridge",
    ),
    (
        "readout-complex-targets",
        lambda: Readout().fit(np.eye(3), np.ones(3) * 1j),
        ParameterTypeError,
        "targets",
    ),
    (
        "readout-string-states",
        lambda: Readout().fit(STRINGS, np.ones(2)),
        ParameterTypeError,
        "states",
    ),
    (
        "readout-targets-length",
        lambda: Readout().fit(np.eye(3), np.ones(4)),
        ParameterError,
        "targets",
    ),
    # -- teacher ---------------------------------------------------------------------------
    (
        "teacher-n-inputs",
        lambda: TwoLayerNetwork(n_inputs=0, n_hidden=2).initialize(),
        ParameterError,
        "n_inputs",
    ),
    (
        "teacher-activation",
        lambda: TwoLayerNetwork(n_inputs=2, n_hidden=2, activation="bogus").initialize(),
        ParameterError,
        "activation",
    ),
    (
        "teacher-predict-complex",
        lambda: _student().initialize().predict(np.ones((2, 6)) * 1j),
        ParameterTypeError,
        "x",
    ),
    (
        "teacher-predict-width",
        lambda: _student().initialize().predict(np.ones((2, 5))),
        ParameterError,
        "x",
    ),
    (
        "teacher-set-weights",
        lambda: _student().set_weights(np.ones((2, 6)), np.ones((1, 3))),
        ParameterError,
        "w1",
    ),
    ("teacher-weights-nan", lambda: _nan_weights().predict(np.ones((2, 6))), ParameterError, "w1_"),
    (
        "trainer-learning-rate",
        lambda: MinibatchTrainer(learning_rate=-1.0).fit(_student(), _teacher_data()),
        ParameterError,
        "learning_rate",
    ),
    (
        "trainer-data-none",
        lambda: MinibatchTrainer().fit(_student(), None),
        ParameterTypeError,
        "data",
    ),
    (
        "trainer-y-strings",
        lambda: MinibatchTrainer().fit(_student(), _bad_teacher_data()),
        ParameterTypeError,
        "y_train",
    ),
    (
        "trainer-flips",
        lambda: MinibatchTrainer(rule=CurlDescent(flipped_inputs=99)).fit(
            _student(), _teacher_data()
        ),
        ParameterError,
        "flipped_inputs",
    ),
    (
        "ensemble-epochs",
        lambda: EnsembleTrainer(rules=GradientDescent(), epochs=-1).fit(
            [_student()], _teacher_data()
        ),
        ParameterError,
        "epochs",
    ),
    (
        "ensemble-y-strings",
        lambda: EnsembleTrainer(rules=GradientDescent(), epochs=1).fit(
            [_student()], _bad_teacher_data()
        ),
        ParameterTypeError,
        "y_train",
    ),
    (
        "online-alpha-max",
        lambda: OnlineTrainer(alpha_max=0.0).fit(
            _student().initialize(), make_teacher(6, 2, seed=0)
        ),
        ParameterError,
        "alpha_max",
    ),
    # -- zeroth order ----------------------------------------------------------------------
    ("mlp-zero-width", lambda: MLP(layer_sizes=(4, 0, 1)), ParameterError, "layer_sizes"),
    ("mlp-one-layer", lambda: MLP(layer_sizes=(4,)), ParameterError, "layer_sizes"),
    ("mlp-sizes-string", lambda: MLP(layer_sizes="4,1"), ParameterTypeError, "layer_sizes"),
    (
        "mlp-theta-length",
        lambda: MLP(layer_sizes=(2, 1)).predict(np.zeros(5), np.zeros((1, 2))),
        ParameterError,
        "theta",
    ),
    (
        "mlp-x-complex",
        lambda: MLP(layer_sizes=(2, 1)).predict(np.zeros(3), np.zeros((1, 2)) + 1j),
        ParameterTypeError,
        "X",
    ),
    (
        "mlp-y-strings",
        lambda: MLP(layer_sizes=(2, 1), loss="squared").mean_loss(
            np.zeros(3), np.zeros((2, 2)), STRINGS
        ),
        ParameterTypeError,
        "Y",
    ),
    (
        "zo-gradient-nan-loss",
        lambda: zo_gradient(lambda th: float("nan"), np.ones(3), SPSA(), key=1),
        ParameterError,
        "loss",
    ),
    (
        "zo-gradient-vector-loss",
        lambda: zo_gradient(lambda th: th, np.ones(3), SPSA(), key=1),
        ParameterTypeError,
        "loss",
    ),
    (
        "zo-gradient-not-callable",
        lambda: zo_gradient(3.0, np.ones(3), SPSA(), key=1),
        ParameterTypeError,
        "loss",
    ),
    (
        "zo-gradient-empty-theta",
        lambda: zo_gradient(lambda th: 0.0, np.zeros(0), SPSA(), key=1),
        ParameterError,
        "theta",
    ),
    (
        "zo-gradient-key",
        lambda: zo_gradient(lambda th: 0.0, np.ones(2), SPSA(), key=-1),
        ParameterError,
        "key",
    ),
    (
        "zo-minimize-steps",
        lambda: minimize(lambda th: 0.0, np.ones(2), SPSA(), steps=0),
        ParameterError,
        "steps",
    ),
    (
        "zo-rule-sigma",
        lambda: SPSA(sigma=-1.0).estimate(
            MLP(layer_sizes=(2, 1), loss="squared"), np.zeros(3), np.zeros((2, 2)), np.zeros((2, 1))
        ),
        ParameterError,
        "sigma",
    ),
    (
        "zo-train-steps",
        lambda: train(
            MLP(layer_sizes=(2, 1), loss="squared"),
            SPSA(),
            np.zeros((4, 2)),
            np.zeros((4, 1)),
            steps=0,
        ),
        ParameterError,
        "steps",
    ),
    (
        "zo-train-net",
        lambda: train("mlp", SPSA(), np.zeros((4, 2)), np.zeros((4, 1)), steps=1),
        ParameterTypeError,
        "net",
    ),
    (
        "zo-train-rule",
        lambda: train(MLP(layer_sizes=(2, 1)), "spsa", np.zeros((4, 2)), np.zeros((4, 1)), steps=1),
        ParameterTypeError,
        "rule",
    ),
    # -- tasks and theory -------------------------------------------------------------------
    ("narma-complex", lambda: narma(np.ones(20) * 1j), ParameterTypeError, "u"),
    ("mackey-glass-tau-nan", lambda: mackey_glass(10, tau=float("nan")), ParameterError, "tau"),
    ("mackey-glass-tau-small", lambda: mackey_glass(10, tau=0.01), ParameterError, "tau"),
    ("lorenz-substeps", lambda: lorenz(10, substeps=0), ParameterError, "substeps"),
    ("lorenz-rho-inf", lambda: lorenz(10, rho=float("inf")), ParameterError, "rho"),
    (
        "ode-signs-shape",
        lambda: integrate_odes(
            0.1 * np.eye(2),
            np.zeros((2, 2)),
            np.eye(2),
            np.ones(2),
            np.ones(2),
            learning_rate=0.5,
            alpha=[0, 1],
            hidden_signs=np.ones(3),
        ),
        ParameterError,
        "hidden_signs",
    ),
    (
        "lyapunov-batch-size",
        lambda: lyapunov_exponent(_student(), _teacher_data(), batch_size=0),
        ParameterError,
        "batch_size",
    ),
    (
        "lyapunov-y-shape",
        lambda: lyapunov_exponent(_student(n_outputs=2), _teacher_data()),
        ParameterError,
        "y_train",
    ),
    (
        "esn-radius-inf",
        lambda: ESN(spectral_radius=float("inf")).run(U),
        ParameterError,
        "spectral_radius",
    ),
    # -- rnnfit ----------------------------------------------------------------------------
    (
        "recording-complex",
        lambda: Recording(rates=np.ones((1, 3, 2)) * 1j, dt_ms=1.0),
        ParameterTypeError,
        "rates",
    ),
    (
        "recording-strings",
        lambda: Recording(rates=np.full((1, 3, 2), "1"), dt_ms=1.0),
        ParameterTypeError,
        "rates",
    ),
    (
        "recording-nan",
        lambda: Recording(rates=np.full((1, 3, 2), np.nan), dt_ms=1.0),
        ParameterError,
        "rates",
    ),
    ("recording-labels", lambda: _recording(labels=["a", "b"]), ParameterTypeError, "labels"),
    (
        "recording-dt",
        lambda: Recording(rates=np.ones((1, 3, 2)), dt_ms=0.0),
        ParameterError,
        "dt_ms",
    ),
    (
        "circuit-weights",
        lambda: RateCircuit(weights=np.ones((3, 2))).simulate(
            np.zeros((1, 3)), np.ones(4), dt_ms=1.0
        ),
        ParameterError,
        "weights",
    ),
    (
        "circuit-drive-complex",
        lambda: RateCircuit(weights=np.eye(3) * 0.1).simulate(
            np.zeros((1, 3)) + 1j, np.ones(4), dt_ms=1.0
        ),
        ParameterTypeError,
        "drive",
    ),
    (
        "circuit-initial-state",
        lambda: RateCircuit(weights=np.eye(3) * 0.1).simulate(
            np.zeros((1, 3)), np.ones(4), dt_ms=1.0, initial_state=np.zeros((2, 3))
        ),
        ParameterError,
        "initial_state",
    ),
    (
        "circuit-velocity-state",
        lambda: RateCircuit(weights=np.eye(3)).velocity(np.zeros(4)),
        ParameterError,
        "state",
    ),
    ("soc-n", lambda: SOCircuit(n=2).initialize(), ParameterError, "n"),
    ("force-n-units", lambda: ForceStudent(n_units=0).fit(_recording()), ParameterError, "n_units"),
    (
        "force-recording-type",
        lambda: ForceStudent(n_units=4).fit("recording"),
        ParameterTypeError,
        "recording",
    ),
    (
        "force-recording-mutated",
        lambda: ForceStudent(n_units=4).fit(_mutated_recording()),
        ParameterTypeError,
        "rates",
    ),
    (
        "force-predict-inputs",
        lambda: _fitted_force().predict(np.ones((1, 5, 2))),
        ParameterError,
        "inputs",
    ),
    (
        "force-predict-complex",
        lambda: _fitted_force().predict(np.ones((1, 5, 1)) * 1j),
        ParameterTypeError,
        "inputs",
    ),
    (
        "force-jacobian-state",
        lambda: _fitted_force().jacobian(np.zeros(3)),
        ParameterError,
        "state",
    ),
    # -- spiking ---------------------------------------------------------------------------
    ("spiking-n-exc", lambda: SpikingEINetwork(n_exc=0).run(1.0), ParameterError, "n_exc"),
    (
        "spiking-duration",
        lambda: SpikingEINetwork(n_exc=8, n_inh=2).run(-1.0),
        ParameterError,
        "duration_ms",
    ),
    (
        "spiking-dt",
        lambda: SpikingEINetwork(n_exc=8, n_inh=2, dt_ms=10.0).run(1.0),
        ParameterError,
        "dt_ms",
    ),
    (
        "spiking-input-complex",
        lambda: SpikingEINetwork(n_exc=8, n_inh=2, seed=0).run(
            1.0, input_signal=np.ones(2) * 1j, input_weight_mv=np.ones(10), hold_ms=0.5
        ),
        ParameterTypeError,
        "input_signal",
    ),
    (
        "spiking-input-weights",
        lambda: SpikingEINetwork(n_exc=8, n_inh=2, seed=0).run(
            1.0, input_signal=np.ones(2), input_weight_mv=np.ones(9), hold_ms=0.5
        ),
        ParameterError,
        "input_weight_mv",
    ),
    (
        "spiking-connectivity-floats",
        lambda: Connectivity.from_arrays(2, 1, pre=[0.5], post=[1], weight=[0.1]),
        ParameterError,
        "pre",
    ),
    (
        "spiking-connectivity-mutated",
        lambda: SpikingEINetwork(n_exc=2, n_inh=1, connectivity=_mutated_connectivity()).run(1.0),
        ParameterError,
        "post",
    ),
    ("spiking-weights-mutated", lambda: _mutated_weights().run(1.0), ParameterError, "weights_"),
    (
        "spiking-filtered-ids",
        lambda: filtered_states(np.array([0]), np.array([5]), 2, 0, 1, 1, 0.5),
        ParameterError,
        "spike_ids",
    ),
    (
        "spiking-filtered-decay",
        lambda: filtered_states(np.array([0]), np.array([0]), 2, 0, 1, 1, 1.5),
        ParameterError,
        "decay_per_step",
    ),
    ("spiking-reservoir-n", lambda: SpikingReservoir(n=1).run(U), ParameterError, "n"),
    (
        "spiking-reservoir-u",
        lambda: SpikingReservoir(n=10, seed=0).run(np.zeros((4, 2))),
        ParameterError,
        "u",
    ),
    (
        "spiking-reservoir-u-strings",
        lambda: SpikingReservoir(n=10, seed=0).run(STRINGS),
        ParameterTypeError,
        "u",
    ),
    (
        "spiking-reservoir-network-params",
        lambda: SpikingReservoir(n=10, network_params={"n_exc": 3}).run(U),
        ParameterError,
        "network_params",
    ),
]


def _nan_weights():
    net = _student().initialize()
    net.w1_ = np.full_like(net.w1_, np.nan)
    return net


def _mutated_recording():
    rec = _recording()
    rec.rates = np.full(rec.rates.shape, "x")
    return rec


def _mutated_weights():
    net = SpikingEINetwork(n_exc=8, n_inh=2, seed=0).build()
    net.weights_ = net.weights_[:-1]
    return net


def _mutated_connectivity():
    conn = Connectivity.from_arrays(2, 1, pre=[0, 1], post=[1, 2], weight=[0.1, 0.1])
    # a frozen dataclass: a user can still build one with out-of-range indices directly
    return Connectivity(n_exc=2, n_inh=1, pre=conn.pre, post=np.array([1, 7]), weight=conn.weight)


def test_the_table_covers_every_family():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))
    for prefix in (
        "esn",
        "ei",
        "readout",
        "teacher",
        "trainer",
        "mlp",
        "zo",
        "recording",
        "force",
        "spiking",
    ):
        assert any(i.startswith(prefix) for i in ids), prefix
    assert len(CASES) >= 80


@pytest.mark.parametrize(
    ("call", "error", "param"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_call_is_refused_with_the_parameter_named(call, error, param):
    with pytest.raises(error) as info:
        call()
    # the right family of built-in error, so `except ValueError` / `except TypeError` works
    assert isinstance(info.value, ValueError if error is ParameterError else TypeError)
    assert f"'{param}'" in str(info.value), str(info.value)


# -- the segfault of issue 13 --------------------------------------------------------------


def _run_python(code: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "NUMBA_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )


def test_resizing_an_esn_after_a_run_rebuilds_it_instead_of_crashing():
    proc = _run_python(
        """
        import numpy as np
        from neurolearn.reservoir import ESN
        u = np.random.default_rng(0).uniform(-1, 1, (50, 1))
        e = ESN(n=10, seed=0)
        e.run(u)
        e.n = 20
        states = e.run(u)
        fresh = ESN(n=20, seed=0).run(u)
        print(states.shape, e.W_.shape, bool(np.array_equal(states, fresh)))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == "(50, 20) (20, 20) True"


# -- parameters changed after the first use: take effect, or raise ---------------------------


def test_esn_leak_changed_after_a_run_takes_effect():
    esn = ESN(n=30, seed=3, leak=1.0)
    before = esn.run(U)
    w_before = esn.W_
    esn.leak = 0.3
    after = esn.run(U)
    assert esn.W_ is w_before  # leak is not structural: the weights are not redrawn
    np.testing.assert_array_equal(after, ESN(n=30, seed=3, leak=0.3).run(U))
    assert not np.allclose(after, before)


def test_esn_invalid_value_set_after_a_run_is_refused():
    esn = _ran_esn()
    esn.leak = 5.0
    with pytest.raises(ParameterError, match="'leak'"):
        esn.run(U)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("spectral_radius", 0.5),
        ("density", 0.5),
        ("input_scaling", 0.2),
        ("bias_scaling", 0.3),
        ("seed", 7),
        ("input_distribution", "bernoulli"),
    ],
)
def test_esn_structural_change_after_a_run_redraws(name, value):
    esn = ESN(n=25, seed=0)
    esn.run(U)
    setattr(esn, name, value)
    kwargs = {"n": 25, "seed": 0, name: value}
    np.testing.assert_array_equal(esn.run(U), ESN(**kwargs).run(U))


def test_esn_n_inputs_change_rebuilds_and_checks_the_input_against_the_new_width():
    esn = _ran_esn()
    esn.n_inputs = 2
    with pytest.raises(ParameterError, match="'u'"):
        esn.run(U)
    u2 = np.linspace(-1.0, 1.0, 10).reshape(5, 2)
    states = esn.run(u2)
    assert states.shape == (5, 10)
    np.testing.assert_array_equal(states, ESN(n=10, n_inputs=2, seed=0).run(u2))


def test_esn_continue_state_after_a_rebuild_is_refused():
    esn = _ran_esn()
    esn.n = 12
    with pytest.raises(NotFittedError, match="continue_state"):
        esn.run(U, continue_state=True)


def test_esn_from_weights_refuses_a_structural_change_but_takes_a_new_leak():
    esn = ESN.from_weights(np.eye(3) * 0.5, np.ones((3, 1)))
    esn.run(U)
    esn.leak = 0.5
    np.testing.assert_array_equal(
        esn.run(U), ESN.from_weights(np.eye(3) * 0.5, np.ones((3, 1)), leak=0.5).run(U)
    )
    esn.n = 4
    with pytest.raises(ParameterError, match="'n'"):
        esn.run(U)


def test_ei_reservoir_dynamics_parameters_take_effect_and_sizes_redraw():
    res = _small_ei()
    res.run(U)
    res.gain, res.leak, res.threshold = 5.0, 0.2, 0.1
    np.testing.assert_array_equal(res.run(U), _small_ei(gain=5.0, leak=0.2, threshold=0.1).run(U))
    res.n = 50
    assert res.run(U).shape == (40, 50)
    np.testing.assert_array_equal(
        res.run(U),
        EIReservoir(
            n=50, in_degree_exc=5, in_degree_inh=5, seed=0, gain=5.0, leak=0.2, threshold=0.1
        ).run(U),
    )


def test_ei_reservoir_target_change_after_adapt_redraws_and_drops_the_adaptation():
    res = _small_ei(target_rate=0.3)
    res.adapt(U)
    assert res.adapted_
    res.target_rate = 0.4
    res.run(U)
    assert not res.adapted_
    np.testing.assert_array_equal(res.target_rate_, np.full(40, 0.4))


def test_ei_reservoir_learning_rate_change_takes_effect_in_the_next_adapt():
    a, b = _small_ei(target_rate=0.3), _small_ei(target_rate=0.3, learning_rate=1e-3)
    a.run(U)
    a.learning_rate = 1e-3
    a.adapt(U)
    b.adapt(U)
    np.testing.assert_array_equal(a.inh_w_, b.inh_w_)
    # the default rate ends elsewhere, so the equality above is the new rate's doing
    default = _small_ei(target_rate=0.3).adapt(U)
    assert not np.array_equal(default.inh_w_, b.inh_w_)


def test_teacher_student_change_raises_in_predict_and_redraws_in_a_trainer():
    data = _teacher_data()
    student = _student()
    MinibatchTrainer(epochs=2, seed=0).fit(student, data)
    student.n_hidden = 5
    with pytest.raises(ParameterError, match="'n_hidden'"):
        student.predict(data.x_test)
    MinibatchTrainer(epochs=2, seed=0).fit(student, data)
    fresh = TwoLayerNetwork(n_inputs=6, n_hidden=5, seed=2)
    MinibatchTrainer(epochs=2, seed=0).fit(fresh, data)
    np.testing.assert_array_equal(student.w1_, fresh.w1_)


def test_teacher_activation_change_takes_effect():
    net = _student().initialize()
    x = np.random.default_rng(0).normal(size=(4, 6))
    before = net.predict(x)
    net.activation = "relu"
    other = TwoLayerNetwork(n_inputs=6, n_hidden=3, activation="relu").set_weights(net.w1_, net.w2_)
    np.testing.assert_array_equal(net.predict(x), other.predict(x))
    assert not np.allclose(net.predict(x), before)


def test_teacher_given_weights_are_never_redrawn():
    net = TwoLayerNetwork(n_inputs=6, n_hidden=3).set_weights(np.ones((3, 6)), np.ones((1, 3)))
    net.n_hidden = 4
    with pytest.raises(ParameterError, match="'n_hidden'"):
        MinibatchTrainer(epochs=1).fit(net, _teacher_data())
    with pytest.raises(ParameterError, match="'n_hidden'"):
        EnsembleTrainer(rules=GradientDescent(), epochs=1).fit([net], _teacher_data())


def test_zo_mlp_changes_take_effect_at_the_next_call():
    net = MLP(layer_sizes=(3, 4, 2), activation="tanh", loss="squared")
    theta = net.set_params(seed=0).initialize().theta_
    x = np.random.default_rng(1).normal(size=(5, 3))
    before = net.predict(theta, x)
    net.activation = "relu"
    np.testing.assert_array_equal(
        net.predict(theta, x),
        MLP(layer_sizes=(3, 4, 2), activation="relu", loss="squared").predict(theta, x),
    )
    assert not np.allclose(net.predict(theta, x), before)
    net.layer_sizes = (3, 5, 2)
    with pytest.raises(ParameterError, match="'theta'"):
        net.predict(theta, x)
    net.layer_sizes = (3, 0, 2)
    with pytest.raises(ParameterError, match="'layer_sizes'"):
        net.predict(theta, x)


def test_force_student_size_change_after_fit_raises_instead_of_reaching_the_kernel():
    student = _fitted_force()
    fitted = student.predict(np.ones((1, 5, 1)))["states"]
    student.n_units = 30
    for call in (
        lambda: student.predict(np.ones((1, 5, 1))),
        lambda: student.velocity(np.zeros(30)),
    ):
        with pytest.raises(ParameterError, match="'n_units'"):
            call()
    student.n_units = 8
    restored = student.predict(np.ones((1, 5, 1)))["states"]
    assert restored.shape == (1, 5, 8)
    np.testing.assert_array_equal(restored, fitted)  # the fitted weights are still used


def test_force_student_time_step_change_after_fit_takes_effect():
    student = _fitted_force()
    u = np.ones((1, 6, 1))
    coarse = student.predict(u)["states"]
    student.dt_ms = 10.0
    fine = student.predict(u)["states"]
    # the first step moves by dt/tau of the drive: halving dt halves it
    np.testing.assert_allclose(fine[0, 1], 0.5 * coarse[0, 1])


@pytest.mark.filterwarnings("ignore::neurolearn.errors.UnreachableTargetWarning")
def test_soc_circuit_change_after_build_raises_until_rebuilt():
    soc = SOCircuit(n=12, max_iter=5, seed=0).initialize()
    soc.tau_ms = 50.0
    assert soc.circuit().tau_ms == 50.0
    soc.n = 16
    with pytest.raises(ParameterError, match="'n'"):
        soc.circuit()
    soc.initialize()
    assert soc.circuit().n == 16


def test_spiking_network_runtime_change_continues_and_structural_change_rebuilds():
    kw = {"n_exc": 16, "n_inh": 4, "connection_prob": 0.3, "seed": 0}
    net = SpikingEINetwork(**kw)
    net.run(20.0)
    net.learning_rate = 0.0
    weights = net.weights_.copy()
    net.run(20.0)
    assert net.step_ == 400  # continued, not restarted
    np.testing.assert_array_equal(net.weights_, weights)  # no plasticity with eta = 0
    net.n_exc = 20
    rec = net.run(20.0)
    assert net.step_ == 200 and net.connectivity_.n == 24
    fresh = SpikingEINetwork(**{**kw, "n_exc": 20}, learning_rate=0.0).run(20.0)
    np.testing.assert_array_equal(rec.spike_ids, fresh.spike_ids)
    np.testing.assert_array_equal(rec.spike_steps, fresh.spike_steps)


def test_spiking_reservoir_changes_take_effect_or_rebuild():
    u = np.random.default_rng(0).uniform(-0.8, 0.8, (15, 1))
    res = SpikingReservoir(n=30, step_ms=5.0, seed=0)
    res.run(u)
    res.filter_tau_ms = 3.0
    np.testing.assert_array_equal(
        res.run(u), SpikingReservoir(n=30, step_ms=5.0, filter_tau_ms=3.0, seed=0).run(u)
    )
    res.n = 40
    np.testing.assert_array_equal(
        res.run(u), SpikingReservoir(n=40, step_ms=5.0, filter_tau_ms=3.0, seed=0).run(u)
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_brian2_network_refuses_plasticity_it_was_built_without():
    # Brian2 is a core dependency: without it this test fails, it does not skip
    net = SpikingEINetwork(n_exc=8, n_inh=2, plasticity=False, backend="brian2", seed=0)
    net.run(1.0)
    net.w_max = 5.0  # a runtime parameter: accepted, the run continues
    net.run(1.0)
    assert net.step_ == 20
    net.plasticity = True
    with pytest.raises(ParameterError, match="'plasticity'"):
        net.run(1.0)
