"""The loss-only rules on any model: a parameter vector and a loss function are all they need.

For a network that is not an :class:`~neurolearn.zo.network.MLP` (a rate RNN, a spiking model,
a simulator), :func:`zo_gradient` gives the weight-perturbation, SPSA and evolution-strategies
estimates from calls to ``loss(theta)``, the forward gradient from calls to a directional
derivative ``jvp(theta, u)`` (forward-mode differentiation of the model, or any exact
directional derivative), and :func:`minimize` runs the rule for a number of steps. The
directions come from the same counter-based stream as the numba kernels, so an MLP trained here
and with :func:`~neurolearn.zo.train` sees the same perturbations.

Two rules are not estimators of ``grad loss`` from a parameter vector and are refused with the
reason: node perturbation puts its noise on the units' pre-activations and needs each sample's
loss and the presynaptic activities (it exists for an :class:`~neurolearn.zo.network.MLP`,
``NodePerturbation.estimate``), and reward-modulated OU weight noise is
a stochastic dynamics of the weights with a running reward average, not a per-step gradient
estimate. :class:`~neurolearn.zo.rules.Backprop` takes the exact gradient, ``grad(theta)``.
"""

from __future__ import annotations

import numpy as np

from neurolearn._params import Interval, check_array, check_param
from neurolearn.errors import DivergenceError, ParameterError, ParameterTypeError
from neurolearn.zo.rules import (
    SPSA,
    Backprop,
    EvolutionStrategies,
    ForwardGradient,
    NodePerturbation,
    OUWeightNoise,
    Rule,
    WeightPerturbation,
    noise_seed,
)

__all__ = ["zo_gradient", "minimize"]

_LOSS_ONLY = (WeightPerturbation, SPSA, EvolutionStrategies)
_REFUSED = {
    NodePerturbation: (
        "perturbs the units' pre-activations and needs each sample's loss and the presynaptic "
        "activities, which a loss function does not give; use NodePerturbation().estimate(net, "
        "theta, X, Y) with an MLP"
    ),
    OUWeightNoise: (
        "is a stochastic dynamics of the weights around a running mean, driven by a running "
        "reward average, not a per-step gradient estimate; train it with neurolearn.zo.train"
    ),
}


def _direction(key: int, step: int, probe: int, d: int, rademacher: bool) -> np.ndarray:
    from neurolearn._kernels.numba.zo import fill_direction, noise_key

    out = np.empty(d)
    fill_direction(np.uint64(noise_key(np.uint64(key), step, probe)), 1 if rademacher else 0, out)
    return out


def _loss(loss, theta, owner: str = "zo_gradient", name: str = "loss") -> float:
    """``loss(theta)`` as a finite float, or a clear error naming the ``name`` parameter."""
    raw = loss(theta)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ParameterTypeError(
            f"The '{name}' parameter of {owner} must return a real scalar. "
            f"Got {type(raw).__name__} {raw!r} instead."
        ) from None
    if not np.isfinite(value):
        raise ParameterError(
            f"The '{name}' parameter of {owner} returned {value} (non-finite) at a parameter "
            "vector with |theta| = "
            f"{float(np.linalg.norm(theta)):.4g}; the estimate needs finite loss values."
        )
    return value


def _callable(value, name: str, owner: str, signature: str):
    if not callable(value):
        raise ParameterTypeError(
            f"The '{name}' parameter of {owner} must be a callable {signature}. "
            f"Got {type(value).__name__} instead."
        )


def zo_gradient(loss, theta, rule: Rule, *, key: int, step: int = 0, jvp=None, grad=None):
    r"""One estimate of ``grad loss(theta)`` by ``rule`` and the number of calls it used.

    Parameters
    ----------
    loss : callable ``loss(theta) -> float`` or None
        The loss; needed by :class:`WeightPerturbation`, :class:`SPSA` and
        :class:`EvolutionStrategies` (None is accepted for the two rules below).
    theta : ndarray (d,)
    rule : Rule
        Any gradient estimator: the three above, :class:`ForwardGradient` (needs ``jvp``) or
        :class:`Backprop` (needs ``grad``). :class:`NodePerturbation` and
        :class:`OUWeightNoise` are refused with the reason (see the module docstring).
    key : int
        Key of the counter-based noise; with ``step`` it picks the perturbations.
    step : int, default=0
    jvp : callable ``jvp(theta, u) -> float``, optional
        Directional derivative ``grad loss(theta) . u`` (forward mode), for the forward
        gradient :math:`\hat g = \frac1q \sum_k (\nabla L \cdot u_k)\, u_k`,
        ``u_k ~ N(0, I)``; one call per probe.
    grad : callable ``grad(theta) -> ndarray (d,)``, optional
        The exact gradient, for :class:`Backprop` (one call).

    Returns
    -------
    estimate : ndarray (d,)
    calls : int
        Calls of ``loss``, ``jvp`` or ``grad`` (the queries of the MLP kernels).

    Examples
    --------
    >>> import numpy as np
    >>> quad = lambda th: 0.5 * float(th @ th)
    >>> g, calls = zo_gradient(quad, np.ones(3), SPSA(sigma=1e-4, n_probes=200), key=1)
    >>> calls, bool(np.allclose(g, np.ones(3), atol=0.4))
    (400, True)
    >>> g, calls = zo_gradient(None, np.ones(3), ForwardGradient(n_probes=200), key=1,
    ...                        jvp=lambda th, u: float(th @ u))
    >>> calls, bool(np.allclose(g, np.ones(3), atol=0.4))
    (200, True)
    """
    for refused, why in _REFUSED.items():
        if isinstance(rule, refused):
            raise ParameterTypeError(
                f"The 'rule' parameter of zo_gradient got {rule!r}, which {why}."
            )
    if not isinstance(rule, (*_LOSS_ONLY, ForwardGradient, Backprop)):
        raise ParameterTypeError(
            "The 'rule' parameter of zo_gradient must be a WeightPerturbation, SPSA, "
            "EvolutionStrategies, ForwardGradient or Backprop. "
            f"Got {rule!r} instead."
        )
    if isinstance(rule, ForwardGradient):
        if jvp is None:
            raise ParameterTypeError(
                "The 'jvp' parameter of zo_gradient is needed by ForwardGradient: a callable "
                "jvp(theta, u) -> float giving the directional derivative grad loss(theta) . u "
                "(ForwardGradient uses no loss values). Got None instead."
            )
        _callable(jvp, "jvp", "zo_gradient", "jvp(theta, u) -> float")
    elif isinstance(rule, Backprop):
        if grad is None:
            raise ParameterTypeError(
                "The 'grad' parameter of zo_gradient is needed by Backprop: a callable "
                "grad(theta) -> ndarray (d,) giving the exact gradient. Got None instead."
            )
        _callable(grad, "grad", "zo_gradient", "grad(theta) -> ndarray (d,)")
    else:
        _callable(loss, "loss", "zo_gradient", "loss(theta) -> float")
    p = rule.checked()
    theta = check_array("zo_gradient", "theta", theta, ndim=1, shape_doc="(d,)")
    d = theta.shape[0]
    if d == 0:
        raise ParameterError(
            "The 'theta' parameter of zo_gradient must hold at least one parameter. "
            "Got an empty array instead."
        )
    key = check_param("zo_gradient", "key", key, Interval(int, 0, 2**64 - 1))
    step = check_param("zo_gradient", "step", step, Interval(int, 0, None))
    if isinstance(rule, Backprop):
        exact = check_array(
            "zo_gradient", "grad", grad(theta.copy()), ndim=1, shape=(d,), shape_doc=f"({d},)"
        )
        return exact.copy(), 1
    if isinstance(rule, ForwardGradient):
        q = p["n_probes"]
        estimate = np.zeros(d)
        for k in range(q):
            u = _direction(key, step, k, d, False)
            estimate += _loss(lambda th, u=u: jvp(th, u), theta, "zo_gradient", "jvp") * u / q
        return estimate, q
    sigma = p["sigma"]
    grad = np.zeros(d)
    calls = 0
    if isinstance(rule, WeightPerturbation):
        base = None if p["antithetic"] else _loss(loss, theta)
        calls += 0 if base is None else 1
        for k in range(p["n_probes"]):
            xi = _direction(key, step, k, d, False)
            plus = _loss(loss, theta + sigma * xi)
            calls += 1
            if p["antithetic"]:
                minus = _loss(loss, theta - sigma * xi)
                calls += 1
                grad += (plus - minus) / (2 * sigma * p["n_probes"]) * xi
            else:
                grad += (plus - base) / (sigma * p["n_probes"]) * xi
        return grad, calls
    if isinstance(rule, SPSA):
        rademacher = p["direction"] == "rademacher"
        for k in range(p["n_probes"]):
            z = _direction(key, step, k, d, rademacher)
            diff = _loss(loss, theta + sigma * z) - _loss(loss, theta - sigma * z)
            calls += 2
            grad += diff / (2 * sigma * p["n_probes"]) * z
        return grad, calls
    pop = p["population"]
    eps = np.stack([_direction(key, step, k, d, False) for k in range(pop)])
    fit = np.array([[_loss(loss, theta + sigma * e), _loss(loss, theta - sigma * e)] for e in eps])
    calls = 2 * pop
    if p["fitness_shaping"] == "centered-ranks":
        ranks = np.empty(fit.size)
        ranks[np.argsort(fit.ravel(), kind="stable")] = np.arange(fit.size) / (fit.size - 1) - 0.5
        fit = ranks.reshape(fit.shape)
    grad = (fit[:, 0] - fit[:, 1]) @ eps / (2 * sigma * pop)
    return grad, calls


def minimize(loss, theta0, rule: Rule, *, steps: int, seed=None, jvp=None, grad=None):
    """Run ``rule`` on ``loss`` for ``steps`` steps from ``theta0``.

    Returns ``(theta, losses, calls)``: final parameters, the loss after each step and the
    total number of calls of :func:`zo_gradient` (training queries; the recorded losses are
    extra). ``jvp`` and ``grad`` are passed on to :func:`zo_gradient` (the forward gradient
    and backprop need them).

    Examples
    --------
    >>> import numpy as np
    >>> quad = lambda th: 0.5 * float(np.sum((th - 2.0) ** 2))
    >>> theta, losses, calls = minimize(quad, np.zeros(4), SPSA(learning_rate=0.2), steps=200,
    ...                                 seed=0)
    >>> bool(losses[-1] < 1e-3 * quad(np.zeros(4))), calls
    (True, 400)
    """
    steps = check_param("minimize", "steps", steps, Interval(int, 1, None))
    theta = check_array("minimize", "theta0", theta0, ndim=1).copy()
    lr = rule.checked()["learning_rate"]
    key = noise_seed(seed)
    losses = np.empty(steps)
    calls = 0
    if not callable(loss):
        raise ParameterTypeError(
            f"The 'loss' parameter of minimize must be a callable loss(theta) -> float. "
            f"Got {type(loss).__name__} instead."
        )
    for step in range(steps):
        try:
            estimate, used = zo_gradient(loss, theta, rule, key=key, step=step, jvp=jvp, grad=grad)
        except ParameterError as exc:
            if step == 0:
                raise
            # the loss was finite around theta0: a non-finite value later is the run diverging
            raise DivergenceError(f"{rule.name} diverged at step {step}: {exc}", step=step) from exc
        calls += used
        theta -= lr * estimate
        if not np.all(np.isfinite(theta)):
            raise DivergenceError(f"{rule.name} diverged at step {step}.", step=step)
        try:
            losses[step] = _loss(loss, theta, "minimize")
        except ParameterError as exc:
            raise DivergenceError(f"{rule.name} diverged at step {step}: {exc}", step=step) from exc
    return theta, losses, calls
