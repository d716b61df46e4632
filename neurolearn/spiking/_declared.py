"""The parameters of the spiking family, each declared once.

:class:`~neurolearn.spiking.SpikingEINetwork`, :class:`~neurolearn.spiking.SpikingReservoir` and
the spec tables of ``models/spiking-*.toml`` are built from these declarations; this module
imports nothing heavy so that reading a spec stays fast.
"""

from __future__ import annotations

import dataclasses

from neurolearn._declare import InstanceOf, Param, common_params, declare
from neurolearn._params import (
    Boolean,
    Interval,
    ListOf,
    NoneOr,
    Options,
    Text,
)
from neurolearn.spiking._connectivity import Connectivity

#: Engines a :class:`~neurolearn.spiking.SpikingEINetwork` runs on (the ``backend`` values).
ENGINES = ("numba", "brian2", "torch")

#: tensor dtypes of the torch engine (the numba and Brian2 engines compute in float64)
DTYPES = ("float32", "float64")

#: How the spiking reservoir's E/I balance is set before the readout is trained.
ADAPTATIONS = ("none", "istdp")

#: What the spiking reservoir's readout sees: filtered spike trains, the recurrent synaptic
#: conductances, or both.
STATES = ("filtered", "synaptic", "both")

#: the other families' backends that the spiking family has no engine for (yet)
MISSING_ENGINES = " or ".join(b for b in ("numpy", "torch") if b not in ENGINES)


_POS = Interval(float, 0, None, "neither")
_NONNEG = Interval(float, 0, None, "left")
_REAL = Interval(float)

#: the engine choice, as ``backend`` in every family; a spec file names its engine explicitly
BACKEND = declare(
    backend=Param(
        "numba",
        NoneOr(Options(ENGINES)),
        "Engine: 'numba' (the clock-driven kernel), 'brian2' (the same equations written for "
        "Brian2, the reference) or 'torch' (PyTorch on the CPU or a GPU, many networks as one "
        f"batch); None picks the default (numba). The family has no {MISSING_ENGINES} engine.",
        spec_constraint=Options(ENGINES),
        type_doc="{'numba', 'brian2', 'torch'} or None",
    ),
)

#: where and in which precision the torch engine computes
TORCH = declare(
    device=Param(
        "cpu",
        NoneOr(Text()),
        "Torch device of the torch engine: 'cpu' or 'cuda[:N]'; None is the CPU. The numba and "
        "Brian2 engines run on the CPU and refuse a CUDA device.",
        spec_constraint=Text(),
        type_doc="str or None",
    ),
    dtype=Param(
        None,
        NoneOr(Options(DTYPES)),
        "Precision: 'float32' or 'float64'. The torch engine computes in either (None: "
        "float32); the numba and Brian2 engines compute in float64 (None or 'float64') and "
        "refuse 'float32'. A spec file writes '' for None.",
        spec_default="",
        spec_constraint=Options(("",) + DTYPES),
        type_doc="{'float32', 'float64'} or None",
    ),
)

#: neuron, synapse and drive parameters shared by both network spec kinds
LIF = declare(
    synapse=Param(
        "conductance",
        Options(("conductance", "current")),
        "Conductance-based synapses (weights in units of the leak conductance) or current-based "
        "ones (weights in mV).",
    ),
    dt_ms=Param(0.1, _POS, "Time step of the forward-Euler integration (ms)."),
    tau_m_ms=Param(20.0, _POS, "Membrane time constant (ms).", runtime=True),
    v_rest_mv=Param(-60.0, _REAL, "Resting potential (mV).", runtime=True),
    v_threshold_mv=Param(-50.0, _REAL, "Spike threshold (mV).", runtime=True),
    v_reset_mv=Param(-60.0, _REAL, "Reset potential (mV), below the threshold.", runtime=True),
    refractory_ms=Param(
        5.0,
        _POS,
        "Absolute refractory period (ms), during which v is clamped at the reset; at least dt_ms.",
    ),
    tau_exc_ms=Param(5.0, _POS, "Decay of the excitatory synaptic variable (ms).", runtime=True),
    tau_inh_ms=Param(10.0, _POS, "Decay of the inhibitory synaptic variable (ms).", runtime=True),
    e_exc_mv=Param(
        0.0, _REAL, "Excitatory reversal potential (mV; conductance synapses only).", runtime=True
    ),
    e_inh_mv=Param(
        -80.0, _REAL, "Inhibitory reversal potential (mV; conductance synapses only).", runtime=True
    ),
    delay_ms=Param(
        0.0, _NONNEG, "Synaptic delay of every recurrent synapse (ms, rounded to whole steps)."
    ),
    w_input=Param(
        0.02,
        _NONNEG,
        "Weight of an external Poisson spike (onto the excitatory synaptic variable).",
        runtime=True,
    ),
    **BACKEND,
    **TORCH,
    brian2_target=Param(
        "numpy",
        Options(("numpy", "cython")),
        "Brian2 code-generation target (cython caches go to brian2_cache_dir()).",
    ),
)

#: sizes, weights and drive of the E/I network
NETWORK = declare(
    n_exc=Param(400, Interval(int, 1, None), "Number of excitatory neurons."),
    n_inh=Param(
        100,
        Interval(int, 0, None),
        "Number of inhibitory neurons (a spec file asks for at least one: the rate-homeostasis "
        "task measures the inhibitory rate and trains the I -> E synapses).",
        spec_constraint=Interval(int, 1, None),
    ),
    connection_prob=Param(
        0.2,
        Interval(float, 0, 1),
        "Probability of a synapse between any ordered pair (no autapses).",
    ),
    w_exc=Param(0.015, _NONNEG, "Weight of the E -> any synapses."),
    w_inh=Param(0.15, _NONNEG, "Weight of the I -> I synapses."),
    w_inh_exc=Param(
        0.05,
        NoneOr(_NONNEG),
        "Initial weight of the plastic I -> E synapses; None means w_inh. The default is weak, "
        "so that the untrained network fires far above the target rate.",
        spec_constraint=_NONNEG,
    ),
    bias_mv=Param(
        15.0,
        _REAL,
        "Constant drive R I in mV (Vogels et al. use 200 pA over a 10 nS leak: 20 mV).",
    ),
    bias_spread_mv=Param(
        5.0, _NONNEG, "Each neuron's bias is drawn uniformly in bias_mv +- bias_spread_mv."
    ),
    input_rate_hz=Param(
        1000.0,
        _NONNEG,
        "Total rate of external Poisson spikes onto each neuron (0: no external drive).",
        runtime=True,
    ),
    record_v=Param(
        10,
        Interval(int, 0, None),
        "Number of neurons (evenly spaced over the network) whose v is recorded.",
    ),
)

#: the Vogels et al. (2011) inhibitory STDP rule on the I -> E synapses
ISTDP = declare(
    target_rate_hz=Param(
        5.0,
        _NONNEG,
        "Target rate rho_0; the rule's depression constant is alpha = 2 rho_0 tau_stdp.",
        runtime=True,
    ),
    tau_stdp_ms=Param(
        20.0, _POS, "Time constant of the pre- and post-synaptic traces (ms).", runtime=True
    ),
    learning_rate=Param(2e-3, _NONNEG, "eta, in weight units per unit trace.", runtime=True),
    w_max=Param(10.0, _POS, "Upper bound of the plastic weights.", runtime=True),
)

_SEED = dataclasses.replace(
    common_params(backends=None, device=False)["seed"],
    doc="Seeds connectivity, initial state, biases and the external drive (one child stream each).",
)

#: parameters of SpikingEINetwork, in constructor order
NETWORK_PARAMS = declare(
    n_exc=NETWORK["n_exc"],
    n_inh=NETWORK["n_inh"],
    connection_prob=NETWORK["connection_prob"],
    **{
        k: LIF[k]
        for k in LIF
        if k not in ("delay_ms", "w_input", "backend", "device", "dtype", "brian2_target")
    },
    **{k: NETWORK[k] for k in ("w_exc", "w_inh", "w_inh_exc")},
    delay_ms=LIF["delay_ms"],
    **{k: NETWORK[k] for k in ("bias_mv", "bias_spread_mv", "input_rate_hz")},
    w_input=LIF["w_input"],
    plasticity=Param(
        True,
        Boolean(),
        "Whether the I -> E synapses follow the Vogels rule during run().",
        runtime=True,
    ),
    **ISTDP,
    connectivity=Param(
        None,
        NoneOr(InstanceOf(Connectivity, "a Connectivity")),
        "Use these synapses instead of drawing random ones (weights are the initial weights).",
        type_doc="Connectivity or None",
    ),
    record_v=NETWORK["record_v"],
    backend=LIF["backend"],
    device=LIF["device"],
    dtype=LIF["dtype"],
    brian2_target=LIF["brian2_target"],
    seed=_SEED,
)

#: network parameters the spiking reservoir sets differently from SpikingEINetwork: heterogeneous
#: suprathreshold biases, no background noise (noise and chaos limit what a linear readout
#: recovers), stronger recurrent weights, no plasticity. They are also the defaults of the
#: ``spiking-reservoir`` spec keys of the same names.
RESERVOIR_NETWORK_DEFAULTS = {
    "bias_mv": 20.0,
    "bias_spread_mv": 10.0,
    "input_rate_hz": 0.0,
    "w_input": 0.02,
    "w_exc": 0.02,
    "w_inh": 0.2,
    "w_inh_exc": 0.2,
    "plasticity": False,
}

#: SpikingEINetwork parameters the reservoir sets itself (not through network_params)
RESERVED = ("n_exc", "n_inh", "seed", "backend", "record_v")

RESERVOIR = declare(
    n=Param(500, Interval(int, 2, None), "Number of neurons."),
    excitatory_fraction=Param(
        0.8, Interval(float, 0, 1, "neither"), "Fraction of excitatory neurons."
    ),
    in_degree=Param(
        20.0,
        Interval(float, 0, None),
        "Expected number of recurrent inputs per neuron: connection_prob = in_degree / (n - 1) "
        "(unless network_params sets connection_prob), so that networks of different sizes have "
        "the same local dynamics.",
    ),
    input_fraction=Param(
        1.0, Interval(float, 0, 1, "right"), "Fraction of neurons that receive the input current."
    ),
    input_scale_mv=Param(
        10.0,
        Interval(float, 0, None),
        "Input weights are uniform in [-input_scale_mv, input_scale_mv] (mV).",
    ),
    step_ms=Param(
        10.0,
        Interval(float, 0, None, "neither"),
        "How long each input value is held (ms).",
        runtime=True,
    ),
    filter_tau_ms=Param(
        10.0,
        ListOf(Interval(float, 0, None, "neither")),
        "Time constant(s) of the spike-train filter that makes the states (ms); with a list, "
        "the traces at every time constant are concatenated (n columns each).",
        runtime=True,
        type_doc="float or list of float",
    ),
    state=Param(
        "filtered",
        Options(STATES),
        "'filtered': filtered spike trains, n per time constant. 'synaptic': each neuron's "
        "excitatory and inhibitory recurrent synaptic conductance (2 n). 'both': the two "
        "concatenated.",
        runtime=True,
    ),
)

#: parameters of SpikingReservoir, in constructor order
RESERVOIR_PARAMS = RESERVOIR | declare(
    adaptation=Param(
        "none",
        Options(ADAPTATIONS),
        "'istdp': adapt() runs the input through the network with inhibitory STDP on (the "
        "spiking counterpart of the adaptive E/I balance), then the weights are frozen; "
        "'none': adapt() does nothing.",
    ),
    network_params=Param(
        None,
        NoneOr(InstanceOf(dict, "a dict")),
        "Other SpikingEINetwork parameters (connection_prob, bias_mv, target_rate_hz, ...); "
        "SpikingReservoir.NETWORK_DEFAULTS apply where a key is absent. n_exc, n_inh, record_v, "
        "backend and seed are the reservoir's own.",
        type_doc="dict or None",
    ),
    backend=BACKEND["backend"],
    seed=dataclasses.replace(
        _SEED, doc="Seeds the network (as SpikingEINetwork's seed) and the input weights."
    ),
)


def backend_refusal(owner: str, value) -> str:
    """The message refusing a ``backend`` the family has no engine for.

    Examples
    --------
    >>> backend_refusal("SpikingEINetwork", "numpy")[:70]
    "The 'backend' parameter of SpikingEINetwork must be one of 'numba', 'b"
    """
    return (
        f"The 'backend' parameter of {owner} must be one of {', '.join(map(repr, ENGINES))} "
        f"(the spiking family has no {MISSING_ENGINES} engine). Got {value!r} instead."
    )


#: spec keys whose value stands for the Python value None (a spec file has no None)
SPEC_NONE = {"dtype": ""}


def from_spec(values: dict) -> dict:
    """Network keyword arguments from spec values: ``''`` back to None where it stands for it.

    Examples
    --------
    >>> from_spec({"dtype": "", "n_exc": 4})
    {'dtype': None, 'n_exc': 4}
    """
    return {k: None if k in SPEC_NONE and v == SPEC_NONE[k] else v for k, v in values.items()}


def with_spec_defaults(params: dict, defaults: dict) -> dict:
    """``params`` with the spec defaults ``defaults`` (a spec kind that starts elsewhere)."""
    return {
        name: dataclasses.replace(p, spec_default=defaults[name]) if name in defaults else p
        for name, p in params.items()
    }


def only(params: dict, *names: str) -> dict:
    """The declarations ``names`` of ``params`` (a spec table that takes some of them)."""
    return {name: params[name] for name in names}
