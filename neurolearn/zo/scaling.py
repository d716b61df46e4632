r"""Learning time of gradient descent, node and weight perturbation on a linear student-teacher
problem (Werfel, Xie & Seung, 2005).

A linear student ``y = W x`` (``n_in`` inputs, ``n_out`` outputs, no bias) learns a linear
teacher ``y* = W* x`` online, one fresh Gaussian input per step, loss ``0.5 |y - y*|^2``. The
generalisation error is ``|W - W*|_F^2 / (2 n_in)`` (computed exactly by evaluating on the
identity matrix). For the three rules the mean squared error shrinks per step by
``1 - 2 eta + eta^2 C`` with ``C = n_in + 2`` (GD), ``(n_out + 2)(n_in + 2)`` (NP) and
``(n_out n_in + 2)(n_in + 2)`` (WP, small ``sigma``), so at the best learning rate ``eta = 1/C``
the learning time grows as ``C``: NP is about ``n_out`` times slower than GD and WP about
``n_in = weights / outputs`` times slower than NP.
"""

from __future__ import annotations

import numpy as np

from neurolearn._params import Interval, check_param
from neurolearn._rng import as_generator
from neurolearn.zo.network import MLP
from neurolearn.zo.rules import Backprop, NodePerturbation, WeightPerturbation
from neurolearn.zo.training import train

__all__ = ["learning_time", "best_learning_time", "theory_constant"]

_RULES = {
    "gradient-descent": Backprop,
    "node-perturbation": NodePerturbation,
    "weight-perturbation": WeightPerturbation,
}


def theory_constant(rule: str, n_in: int, n_out: int) -> float:
    """``C`` of the per-step contraction ``1 - 2 eta + eta^2 C`` (learning time at ``eta=1/C``).

    Examples
    --------
    >>> theory_constant("node-perturbation", 10, 6) / theory_constant("gradient-descent", 10, 6)
    8.0
    """
    if rule == "gradient-descent":
        return float(n_in + 2)
    if rule == "node-perturbation":
        return float((n_out + 2) * (n_in + 2))
    if rule == "weight-perturbation":
        return float((n_out * n_in + 2) * (n_in + 2))
    raise ValueError(f"The 'rule' parameter must be one of {sorted(_RULES)}. Got {rule!r} instead.")


def learning_time(
    rule: str,
    n_in: int,
    n_out: int,
    learning_rate: float,
    *,
    threshold=1e-2,
    max_steps: int = 10000,
    sigma: float = 1e-4,
    n_records: int = 400,
    seed=None,
) -> float:
    """Steps until the generalisation error falls below ``threshold`` times its initial value
    (``inf`` when it does not within ``max_steps`` or diverges).

    Examples
    --------
    >>> t = learning_time("gradient-descent", 5, 2, 1 / 7, max_steps=200, seed=0)
    >>> bool(10 < t < 200)
    True
    """
    from neurolearn.errors import DivergenceError

    n_in = check_param("learning_time", "n_in", n_in, Interval(int, 1, None))
    n_out = check_param("learning_time", "n_out", n_out, Interval(int, 1, None))
    if rule not in _RULES:
        theory_constant(rule, n_in, n_out)
    rng_teacher, rng_student, rng_data, rng_train = as_generator(seed, "learning_time").spawn(4)
    teacher = rng_teacher.standard_normal((n_out, n_in))
    X = rng_data.standard_normal((max_steps, n_in))
    Y = X @ teacher.T
    net = MLP(
        layer_sizes=(n_in, n_out), activation="linear", loss="squared", bias=False, seed=rng_student
    )
    theta0 = net.initialize().theta_
    kwargs = {"learning_rate": learning_rate}
    if rule != "gradient-descent":
        kwargs["sigma"] = sigma
    eye = np.eye(n_in)
    try:
        res = train(
            net,
            _RULES[rule](**kwargs),
            X,
            Y,
            steps=max_steps,
            batch_size=1,
            seed=rng_train,
            theta=theta0,
            eval_sets={"gen": (eye, teacher.T.copy())},
            n_records=n_records,
            sampling="sequential",
        )
    except DivergenceError:
        return float("inf")
    err = res.gen_loss
    below = np.nonzero(err <= threshold * err[0])[0]
    return float(res.steps[below[0]]) if below.size else float("inf")


def best_learning_time(
    rule: str, n_in: int, n_out: int, learning_rates, *, n_seeds: int = 8, seed=None, **kwargs
) -> dict:
    """Mean learning time over seeds for each learning rate, and the best one.

    Returns ``{"learning_rates", "mean_times", "best_learning_rate", "best_time",
    "best_index"}``. The same seeds (teachers, inputs, initial students) are used for every
    learning rate.

    Examples
    --------
    >>> res = best_learning_time("gradient-descent", 4, 2, [0.01, 1 / 6], n_seeds=2,
    ...                          seed=0, max_steps=300)
    >>> res["best_learning_rate"] == 1 / 6
    True
    """
    n_seeds = check_param("best_learning_time", "n_seeds", n_seeds, Interval(int, 1, None))
    seeds = [int(s) for s in as_generator(seed, "best_learning_time").integers(0, 2**31, n_seeds)]
    lrs = [float(v) for v in learning_rates]
    means = np.array(
        [
            np.mean([learning_time(rule, n_in, n_out, lr, seed=s, **kwargs) for s in seeds])
            for lr in lrs
        ]
    )
    best = int(np.argmin(means))
    return {
        "learning_rates": np.asarray(lrs),
        "mean_times": means,
        "best_learning_rate": lrs[best],
        "best_time": float(means[best]),
        "best_index": best,
    }
