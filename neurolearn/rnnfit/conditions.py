"""Reach conditions for a ground-truth circuit: preparatory input, free relaxation, muscles.

Each condition is a point in the plane of the circuit's two most amplified initial states
(``layout="ring"``: reach angle ``theta``), or one amplified state per condition
(``layout="modes"``). During preparation a ramped input ``h_c = x0_c - W g(x0_c)`` (which makes
``x0_c`` a fixed point) pulls the circuit towards the condition's initial state; at the go cue
the input switches off and the circuit relaxes freely, producing the movement-period transient.
Muscle-like multiphasic targets are read out linearly from the rates (ridge fit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurolearn._declare import parameters_doc
from neurolearn._linalg import ridge_solve
from neurolearn._params import check_param
from neurolearn.rnnfit import _declared as D

__all__ = ["ReachConditions", "reach_conditions", "muscle_targets", "fit_readout"]


@dataclass(frozen=True)
class ReachConditions:
    """Inputs, teacher states and timing of a set of reach conditions.

    Attributes
    ----------
    inputs : ndarray (C, T, K)
        What a student sees: the condition's mode coefficients times the preparatory profile.
    states : ndarray (C, T, N)
        Teacher states ``x``.
    labels : ndarray (C,)
        Reach angle (ring) or mode index (modes).
    go_step : int
        First step of the movement period (input off).
    dt_ms : float
    """

    inputs: np.ndarray
    states: np.ndarray
    labels: np.ndarray
    go_step: int
    dt_ms: float


def preparatory_profile(n_steps: int, go_step: int, dt_ms: float, ramp_ms: float):
    """``1 - exp(-t / ramp)`` before the go step, 0 after (a step when ``ramp_ms = 0``)."""
    t = np.arange(n_steps) * dt_ms
    ramp = 1.0 - np.exp(-t / ramp_ms) if ramp_ms > 0 else np.ones(n_steps)
    return np.where(np.arange(n_steps) < go_step, ramp, 0.0)


def reach_conditions(
    soc,
    *,
    n_conditions: int = 8,
    layout: str = "ring",
    offset: float = 0.0,
    initial_state_rms: float = 0.5,
    prep_ms: float = 600.0,
    move_ms: float = 800.0,
    ramp_ms: float = 200.0,
    dt_ms: float = 20.0,
) -> ReachConditions:
    """Simulate a built :class:`~neurolearn.rnnfit.SOCircuit` on reach conditions.

    Parameters
    ----------
    soc : SOCircuit
        A circuit after ``soc.initialize()``.
    {parameters}

    Examples
    --------
    >>> from neurolearn.rnnfit import SOCircuit
    >>> soc = SOCircuit(n=30, seed=0).initialize()
    >>> rc = reach_conditions(soc, n_conditions=4, prep_ms=100, move_ms=100, dt_ms=20)
    >>> rc.inputs.shape, rc.states.shape, rc.go_step
    ((4, 10, 2), (4, 10, 30), 5)
    """
    values = _checked(
        "reach_conditions",
        D.REACH,
        n_conditions=n_conditions,
        layout=layout,
        offset=offset,
        initial_state_rms=initial_state_rms,
        prep_ms=prep_ms,
        move_ms=move_ms,
        ramp_ms=ramp_ms,
        dt_ms=dt_ms,
    )
    n_conditions, offset, rms = (
        values["n_conditions"],
        values["offset"],
        values["initial_state_rms"],
    )
    dt, prep, move, ramp = (values[k] for k in ("dt_ms", "prep_ms", "move_ms", "ramp_ms"))
    from neurolearn.rnnfit.circuit import gain
    from neurolearn.rnnfit.soc import condition_layout

    if layout == "ring":
        coef, labels = condition_layout("ring", n_conditions, offset)
    else:
        coef, labels = condition_layout("modes", n_conditions)
    modes, _ = soc.amplified_states(coef.shape[1])
    circuit = soc.circuit()
    x0 = rms * np.sqrt(circuit.n) * coef @ modes
    g0 = gain(x0, baseline_rate_hz=circuit.baseline_rate_hz, max_rate_hz=circuit.max_rate_hz)
    drive = x0 - g0 @ np.asarray(circuit.weights).T
    go_step = int(round(prep / dt))
    n_steps = go_step + int(round(move / dt))
    profile = preparatory_profile(n_steps, go_step, dt, ramp)
    states = circuit.simulate(drive, profile, dt_ms=dt)
    inputs = coef[:, None, :] * profile[None, :, None]
    return ReachConditions(inputs, states, np.asarray(labels, float), go_step, dt)


def muscle_targets(
    labels,
    n_steps: int,
    go_step: int,
    dt_ms: float,
    *,
    n_outputs: int = 2,
    peak_ms: float = 250.0,
    width_ms: float = 80.0,
):
    """Multiphasic muscle-like target curves ``(C, T, O)``, zero before the go step.

    Muscle ``m`` with preferred angle ``phi_m = 2 pi m / O`` follows
    ``cos(theta - phi_m) b1(s) + sin(theta - phi_m) b2(s)``: ``b1`` a biphasic and ``b2`` a
    triphasic pulse (first and second derivative of a Gaussian at ``peak_ms`` after go).

    Examples
    --------
    >>> m = muscle_targets([0.0, 3.14], n_steps=30, go_step=5, dt_ms=20.0)
    >>> m.shape, float(abs(m[:, :5]).max())
    ((2, 30, 2), 0.0)
    """
    n_outputs = _checked("muscle_targets", D.MUSCLES, n_outputs=n_outputs)["n_outputs"]
    s = (np.arange(n_steps) - go_step) * dt_ms
    u = (s - peak_ms) / width_ms
    env = np.exp(-0.5 * u**2) * (s >= 0)
    b1 = -u * env
    b2 = (1.0 - u**2) * env
    phi = 2 * np.pi * np.arange(n_outputs) / n_outputs
    d = np.asarray(labels, float)[:, None] - phi[None, :]
    return np.cos(d)[:, None, :] * b1[None, :, None] + np.sin(d)[:, None, :] * b2[None, :, None]


def _checked(owner: str, declared: dict, **values) -> dict:
    """``values`` checked against their declarations (the house error message)."""
    return {k: check_param(owner, k, v, declared[k].constraint) for k, v in values.items()}


reach_conditions.__doc__ = reach_conditions.__doc__.replace(
    "{parameters}", parameters_doc(D.REACH, "    ").lstrip(), 1
)


def fit_readout(rates_dev, targets, ridge: float = 1e-3):
    """Ridge readout ``C`` (O, N) with ``targets ~ rates_dev @ C.T`` over conditions and time."""
    x = rates_dev.reshape(-1, rates_dev.shape[-1])
    y = targets.reshape(-1, targets.shape[-1])
    return ridge_solve(x, y, ridge, fit_intercept=False, relative=True)[0].T
