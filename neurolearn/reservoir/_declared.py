"""The parameters of the reservoir family, each declared once.

The model classes (:class:`~neurolearn.reservoir.ESN`, :class:`~neurolearn.reservoir.EIReservoir`,
:class:`~neurolearn.reservoir.Readout`) and the spec tables of ``models/*.toml`` are both built
from these declarations; this module imports nothing heavy so that reading a spec stays fast.
"""

from __future__ import annotations

from neurolearn._declare import Param, common_params, declare
from neurolearn._params import AnyOf, Boolean, Distribution, Interval, ListOf, NoneOr, Options
from neurolearn.reservoir._connectivity import ADAPTATIONS, GLOBAL_SEARCHES, INH_WEIGHT_STD

_POS = Interval(float, 0, None, "neither")
_FRACTION = Interval(float, 0, 1, "neither")
BETA_2_2 = {"dist": "beta", "a": 2.0, "b": 2.0}


class _AnyTarget(AnyOf):
    """A spec target plus what Python also takes: an array of per-unit targets (checked at use)."""

    def check(self, value):
        if hasattr(value, "__len__") and not isinstance(value, str | dict):
            return value
        return super().check(value)


class _Rates(ListOf):
    """A positive float or a non-empty sequence (a list, tuple or 1-D array) of them."""

    def check(self, value):
        if hasattr(value, "tolist") and not isinstance(value, str):
            value = value.tolist()
        return super().check(value)


_SPEC_TARGET = AnyOf((_FRACTION, Distribution()))

COMMON = common_params() | declare(
    dtype=Param(
        "float64",
        Options(("float64", "float32")),
        "Precision of the recurrent weights and the returned states when running. "
        "'float32' halves the bytes streamed per step; the nonlinearity is still evaluated in "
        "float64 on the numba and numpy backends.",
        runtime=True,
    ),
)

N_INPUTS = declare(n_inputs=Param(1, Interval(int, 1, None), "Number of input channels."))

ESN_NETWORK = declare(
    n=Param(100, Interval(int, 1, None), "Number of units."),
    spectral_radius=Param(
        1.0,
        Interval(float, 0, None),
        "The recurrent matrix is rescaled so that its largest eigenvalue modulus equals this.",
    ),
    leak=Param(1.0, Interval(float, 0, 1, "right"), "Leaking rate a.", runtime=True),
    density=Param(
        0.1,
        Interval(float, 0, 1, "right"),
        "Fraction of non-zero recurrent weights (standard normal before rescaling).",
    ),
    input_scaling=Param(
        1.0,
        Interval(float, 0, None),
        "Input weights are uniform in [-input_scaling, input_scaling] (or +-input_scaling with "
        "input_distribution='bernoulli').",
    ),
    input_density=Param(1.0, Interval(float, 0, 1, "right"), "Fraction of non-zero input weights."),
    input_distribution=Param(
        "uniform",
        Options(("uniform", "bernoulli")),
        "Distribution of the non-zero input weights ('bernoulli': random signs).",
    ),
    bias_scaling=Param(
        0.0, Interval(float, 0, None), "Biases are uniform in [-bias_scaling, bias_scaling]."
    ),
)

EI_NETWORK = declare(
    n=Param(500, Interval(int, 2, None), "Number of units."),
    excitatory_fraction=Param(0.8, _FRACTION, "Fraction f_E of excitatory units."),
    in_degree=Param(
        50,
        Interval(int, 2, None),
        "Total in-degree k, split as k_E = round(k f_E) from E units and k_I = k - k_E from I "
        "units (40 and 10 by default; see neurolearn.reservoir.ei.ei_in_degrees).",
    ),
    in_degree_exc=Param(
        None,
        NoneOr(Interval(int, 1, None)),
        "Overrides k_E (at most the number of E units minus one; no self-connections).",
    ),
    in_degree_inh=Param(
        None,
        NoneOr(Interval(int, 1, None)),
        "Overrides k_I (at most the number of I units minus one; no self-connections).",
    ),
    weight_cv=Param(
        0.2,
        Interval(float, 0, None),
        "E weights are abs(Normal(mu_E, cv mu_E)) with mu_E = 1 / (k f_E), k = k_E + k_I; "
        "I weights abs(Normal(mu_I, cv mu_X)) with mu_I = (f_E / f_I) mu_E.",
    ),
    inh_weight_std=Param(
        "mu_E",
        Options(INH_WEIGHT_STD),
        "mu_X above: the inhibitory spread is cv mu_E (as the paper's parameter table is read) "
        "or cv mu_I.",
    ),
    gain=Param(10.0, _POS, "Sigmoid gain c.", runtime=True),
    threshold=Param(0.0, Interval(float), "Sigmoid threshold theta.", runtime=True),
    leak=Param(0.0, Interval(float, 0, 1, "left"), "Potential leak lambda.", runtime=True),
    input_fraction=Param(
        0.3, Interval(float, 0, 1, "right"), "Fraction of units that receive input."
    ),
    input_scaling=Param(
        0.25,
        Interval(float, 0, None),
        "Input weights of the driven units are uniform in [-input_scaling, input_scaling].",
    ),
    balance=Param(
        None,
        NoneOr(Interval(float)),
        "If set, A_I is scaled once at construction so that the global balance "
        "beta = (1/N) 1^T (A_E - A_I) 1 equals this value.",
    ),
)

TARGET_RATE = declare(
    target_rate=Param(
        None,
        NoneOr(_AnyTarget((_FRACTION, Distribution()))),
        "Targets rho_i in (0, 1): a float (homogeneous), an array of shape (n,), or a "
        "distribution such as {'dist': 'beta', 'a': 2, 'b': 2}; None means Beta(2, 2).",
        spec_default=BETA_2_2,
        spec_constraint=_SPEC_TARGET,
        type_doc="float, array of shape (n,), dict or None",
    ),
)

LOCAL_RULE = declare(
    learning_rate=Param(
        (1e-2, 1e-3, 1e-4),
        _Rates(_POS),
        "eta of the local rule; a sequence is an annealing schedule of phases.",
        runtime=True,
        spec_constraint=ListOf(_POS),
        type_doc="float or sequence of float",
    ),
    tolerance=Param(
        0.05,
        _FRACTION,
        "A unit meets its target when its mean rate is within this of rho_i.",
        runtime=True,
    ),
    criterion=Param(
        0.95,
        Interval(float, 0, 1, "right"),
        "Local adaptation has converged when this share of the reachable units meets its "
        "target (in a check window of the last phase).",
        runtime=True,
    ),
    check_every=Param(
        500,
        Interval(int, 1, None),
        "Steps between convergence checks of the local rule.",
        runtime=True,
    ),
    record_every=Param(
        10,
        Interval(int, 1, None),
        "The rate trajectory during adaptation stores the mean rate of every window of this "
        "many steps.",
        runtime=True,
    ),
)

ADAPTATION = declare(
    adaptation=Param(
        "local",
        Options(ADAPTATIONS),
        "What adapt() does. 'local': the paper's rule, every inhibitory synapse onto unit i "
        "moves by eta (r_i - rho_i). 'global': rate-matched global tuning, one scalar on A_I "
        "such that the population mean rate equals the mean target. 'row-rescale': each "
        "unit's inhibitory row is scaled once, solved from the fixed point r = rho under the "
        "mean input. 'intrinsic': the classic homeostatic alternative, intrinsic plasticity "
        "(Triesch 2005): each unit's gain and bias adapt so that its output distribution "
        "approaches an exponential with mean rho_i; the synaptic weights keep their E/I ratio. "
        "'none': weights stay as drawn.",
        runtime=True,
    ),
)

INTRINSIC = declare(
    ip_learning_rate=Param(
        1e-3,
        _POS,
        "Step size eta of intrinsic plasticity (adaptation 'intrinsic').",
        runtime=True,
    ),
)

ESN_INTRINSIC = declare(
    adaptation=Param(
        "none",
        Options(("none", "intrinsic")),
        "What adapt() does: 'intrinsic' adapts each unit's gain and bias by intrinsic "
        "plasticity for tanh units (Schrauwen et al. 2008) toward a Gaussian output "
        "distribution N(ip_target_mean, ip_target_std**2); 'none' leaves the reservoir as drawn.",
        runtime=True,
    ),
    ip_target_mean=Param(
        0.0,
        Interval(float, -1, 1, "neither"),
        "Mean of the target output distribution.",
        runtime=True,
    ),
    ip_target_std=Param(
        0.2,
        Interval(float, 0, 1, "neither"),
        "Std of the target output distribution.",
        runtime=True,
    ),
)

GLOBAL_SEARCH = declare(
    global_search=Param(
        "secant",
        Options(GLOBAL_SEARCHES),
        "How global tuning finds its scalar: a linear-response first guess from one run, then "
        "secant / Illinois steps on the measured mean rate (typically 3-5 runs), or the plain "
        "doubling + bisection (typically 10-20 runs).",
        runtime=True,
    ),
)

READOUT = declare(
    ridge=Param(
        1e-6, Interval(float, 0, None), "Tikhonov penalty on the weights (not on the intercept)."
    ),
    washout=Param(
        0,
        Interval(int, 0, None),
        "Leading steps of every sequence left out of the fit (and of score).",
        spec_default=200,
    ),
    fit_intercept=Param(True, Boolean(), "Fit an unpenalised intercept."),
)

#: parameters of the ESN class, in constructor order
ESN_PARAMS = ESN_NETWORK | N_INPUTS | ESN_INTRINSIC | INTRINSIC | COMMON
#: parameters of the EIReservoir class, in constructor order
EI_PARAMS = (
    EI_NETWORK
    | N_INPUTS
    | ADAPTATION
    | TARGET_RATE
    | LOCAL_RULE
    | GLOBAL_SEARCH
    | INTRINSIC
    | COMMON
)


def only(params: dict, *names: str) -> dict:
    """The declarations ``names`` of ``params`` (a spec table that takes some of them)."""
    return {name: params[name] for name in names}


ONLINE_READOUT = declare(
    method=Param(
        "rls",
        Options(("rls", "lms")),
        "'rls': recursive least squares (with forgetting); 'lms': least mean squares.",
    ),
    forgetting=Param(
        1.0,
        Interval(float, 0, 1, "right"),
        "RLS forgetting factor lambda: 1 weighs every past step equally (the ridge solution); "
        "below 1 the weight of a step decays as lambda**age.",
    ),
    alpha=Param(
        1.0,
        Interval(float, 0, None, "neither"),
        "RLS regularisation: P starts as I / alpha, which equals a ridge penalty alpha (on the "
        "weights and the intercept) when forgetting is 1.",
    ),
    learning_rate=Param(1e-3, Interval(float, 0, None, "neither"), "LMS step size mu."),
    update_every=Param(
        1, Interval(int, 1, None), "Steps between updates (FORCE often updates every 2nd step)."
    ),
    fit_intercept=Param(True, Boolean(), "Learn an intercept (a constant 1 in the state)."),
)
