"""Training loops: any rule on any :class:`~neurolearn.zo.network.MLP`, counted in queries.

The numba loop runs a whole chunk of steps without returning to Python; between chunks the
driver evaluates the loss (and accuracy) on held-out sets "on the side" (not counted as queries,
not counted in the training wall time) and records learning curves against steps, queries and
wall time.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from neurolearn._history import History
from neurolearn._params import Interval, NoneOr, Options, check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import BackendError, DivergenceError, ParameterError, ParameterTypeError
from neurolearn.zo import _declared as D
from neurolearn.zo.network import MLP
from neurolearn.zo.rules import Rule, noise_seed

__all__ = ["train", "make_batches", "backend_refusal"]


def backend_refusal(owner: str, backend) -> str:
    """The message refusing a backend the family has no engine for.

    Examples
    --------
    >>> backend_refusal("train", "numpy")[:60]
    "The 'backend' parameter of train must be one of 'numba', 'to"
    """
    return (
        f"The 'backend' parameter of {owner} must be one of "
        f"{', '.join(map(repr, D.BACKENDS))} (the zeroth-order family has no numpy engine). "
        f"Got {backend!r} instead."
    )


def make_batches(n_samples: int, steps: int, batch_size: int, rng, sampling: str) -> np.ndarray:
    """Row indices ``(steps, batch_size)``: reshuffled epochs, or consecutive rows (online data).

    Examples
    --------
    >>> make_batches(4, 3, 2, None, "sequential").tolist()
    [[0, 1], [2, 3], [4, 5]]
    """
    if sampling == "sequential":
        return np.arange(steps * batch_size, dtype=np.int64).reshape(steps, batch_size)
    rng = as_generator(rng, "make_batches")
    if batch_size > n_samples:
        raise ParameterError(
            f"The 'batch_size' parameter of train must be <= the number of training samples "
            f"({n_samples}). Got {batch_size} instead."
        )
    per_epoch = n_samples // batch_size
    n_epochs = -(-steps // per_epoch)
    rows = [rng.permutation(n_samples)[: per_epoch * batch_size] for _ in range(n_epochs)]
    return np.concatenate(rows).reshape(-1, batch_size)[:steps].astype(np.int64)


def train(
    net,
    rule: Rule,
    X,
    Y,
    *,
    steps: int,
    batch_size: int = 32,
    seed=None,
    theta=None,
    eval_sets: dict | None = None,
    n_records: int = 20,
    sampling: str = "shuffle",
    backend: str | None = None,
    device: str | None = None,
    noise: str = "native",
    record_spacing: str = "linear",
) -> History:
    """Train ``net`` with ``rule`` on ``(X, Y)`` for ``steps`` mini-batch steps.

    Neither ``net`` nor ``rule`` is changed: the trained parameters are returned in the history
    (``theta``), and ``net.theta_`` (from :meth:`~neurolearn.zo.network.MLP.initialize`) is not
    used: the initial weights come from ``theta`` or from ``seed``.

    Parameters
    ----------
    net : MLP
    rule : Rule
        Any rule of :mod:`neurolearn.zo.rules`.
    X, Y : array-like
        Training inputs ``(n, n_in)`` and targets ``(n, n_out)`` (one-hot for cross-entropy).
        With ``sampling="sequential"`` ``n`` must be at least ``steps * batch_size``.
    steps : int
    batch_size : int, default=32
    seed : int, Generator or None
        Initial weights (when ``theta`` is None, drawn as
        :meth:`~neurolearn.zo.network.MLP.initialize` draws them), batch order and noise derive
        from it.
    theta : array or None
        Starting parameters (copied).
    eval_sets : dict of name to (X, Y) or (X, Y, labels), default=None
        Held-out sets evaluated at each record point.
    n_records : int, default=20
        Record points (the last is at ``steps``).
    record_spacing : {"linear", "log"}, default="linear"
        Record points evenly spaced in steps, or geometrically (for log-scale plots).
    sampling : {"shuffle", "sequential"}, default="shuffle"
    backend : {"numba", "torch"} or None, default=None
        None or ``"numba"``: the numba kernels. ``"torch"`` runs backprop, SPSA and the forward
        gradient with PyTorch (float64 here; see :mod:`neurolearn.zo.large` for float32 models
        of millions of parameters). The family has no numpy engine: ``"numpy"`` is refused.
    device : str or None, default=None
        Torch device (``"cpu"``, ``"cuda"``).
    noise : {"native", "hash"}, default="native"
        Torch only: directions from torch generators, or the numba kernels' counter-based
        stream (bit-identical directions, so both backends give the same numbers).

    Returns
    -------
    History
        Along ``steps`` (the record points): ``queries`` (forward passes used), ``wall_s``
        (training wall time), ``"<set>_loss"`` and, with labels, ``"<set>_accuracy"`` for each
        evaluation set, and ``batch_loss`` (the mini-batch loss the rule saw, averaged since
        the previous record); and ``theta``, the final parameters (for the OU rule, the mean
        ``mu``), and ``total_queries``.

    Raises
    ------
    DivergenceError
        When the loss or the parameters become NaN/Inf, with the step.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.zo import MLP, SPSA
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((64, 4)); Y = X @ rng.standard_normal((4, 2))
    >>> net = MLP(layer_sizes=(4, 2), activation="linear", loss="squared", bias=False)
    >>> res = train(net, SPSA(learning_rate=0.05, n_probes=4), X, Y, steps=300, batch_size=16,
    ...             seed=0, eval_sets={"train": (X, Y)}, n_records=3)
    >>> bool(res.train_loss[-1] < 0.1 * res.train_loss[0])
    True
    >>> res.steps.tolist(), res.total_queries
    ([0, 100, 200, 300], 2400)
    """
    from neurolearn._kernels.numba import zo as K

    steps = check_param("train", "steps", steps, Interval(int, 1, None))
    batch_size = check_param("train", "batch_size", batch_size, Interval(int, 1, None))
    n_records = check_param("train", "n_records", n_records, Interval(int, 1, None))
    sampling = check_param("train", "sampling", sampling, Options(("shuffle", "sequential")))
    if isinstance(backend, str) and backend not in D.BACKENDS:
        raise BackendError(backend_refusal("train", backend))
    backend = check_param("train", "backend", backend, NoneOr(Options(D.BACKENDS))) or "numba"
    noise = check_param("train", "noise", noise, Options(("native", "hash")))
    record_spacing = check_param(
        "train", "record_spacing", record_spacing, Options(("linear", "log"))
    )
    if not isinstance(rule, Rule):
        raise ParameterTypeError(
            f"The 'rule' parameter of train must be a Rule. Got {rule!r} instead."
        )
    if not isinstance(net, MLP):
        raise ParameterTypeError(
            f"The 'net' parameter of train must be an MLP. Got {type(net).__name__} instead."
        )
    kparams = rule.kernel_params()
    X, Y = net.check_data(X, Y)
    if sampling == "sequential" and X.shape[0] < steps * batch_size:
        raise ParameterError(
            f"sampling='sequential' needs steps * batch_size = {steps * batch_size} rows of X. "
            f"Got {X.shape[0]} instead."
        )
    rng_init, rng_batch, rng_noise = as_generator(seed, "train").spawn(3)
    theta = net._draw(rng_init) if theta is None else net.check_theta(theta).copy()
    lay = net.layout_
    act, loss = net.codes
    batches = make_batches(X.shape[0], steps, batch_size, rng_batch, sampling)
    key = np.uint64(noise_seed(rng_noise))
    is_ou = isinstance(kparams, K.OUWeightNoiseParams)
    ou = K.OUState(mean=theta.copy(), reward=np.zeros(2))
    layout = K.MLPLayout(lay.sizes, lay.w_off, lay.b_off, act, loss)
    data_k = K.Data(X, Y)
    eval_sets = {} if eval_sets is None else eval_sets
    checked_sets = {}
    for name, data in eval_sets.items():
        if not isinstance(data, list | tuple) or len(data) not in (2, 3):
            raise ParameterTypeError(
                f"The 'eval_sets' parameter of train must map names to (X, Y) or "
                f"(X, Y, labels). Got {type(data).__name__} for {name!r} instead."
            )
        Xe, Ye = net.check_data(data[0], data[1])
        labels = (
            None
            if len(data) < 3
            else check_array("train", "eval_sets", data[2], shape=(Xe.shape[0],), dtype=np.int64)
        )
        checked_sets[name] = (Xe, Ye, labels)

    if record_spacing == "log":
        edges = np.unique(np.r_[0, np.geomspace(1, steps, n_records).round().astype(int)])
    else:
        edges = np.unique(np.linspace(0, steps, n_records + 1).round().astype(int))
    rec_steps, rec_queries, rec_wall = [0], [0], [0.0]
    curves: dict[str, list] = {"batch_loss": [np.nan]}

    def record(params):
        for name, (Xe, Ye, labels) in checked_sets.items():
            curves.setdefault(f"{name}_loss", []).append(net.mean_loss(params, Xe, Ye))
            if labels is not None:
                curves.setdefault(f"{name}_accuracy", []).append(net.accuracy(params, Xe, labels))

    record(theta)
    queries, wall = 0, 0.0
    step_loss = np.zeros(steps)
    torch_run = None
    if backend == "torch":
        from neurolearn.zo.large import TorchRun

        torch_run = TorchRun(net, rule, theta, X, Y, key=int(key), device=device, noise=noise)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        start = time.perf_counter()
        if torch_run is not None:
            q, bad = torch_run.steps(batches[lo:hi], lo, step_loss[lo:hi])
            wall += time.perf_counter() - start
            theta = torch_run.theta()
        else:
            scratch = K.scratch_for(kparams, lay.sizes, batch_size, lay.n_params)
            q, bad = K.train_steps(
                kparams,
                theta,
                ou,
                layout,
                data_k,
                batches[lo:hi],
                lo,
                key,
                scratch,
                step_loss[lo:hi],
            )
            wall += time.perf_counter() - start
        queries += int(q)
        if bad >= 0:
            raise DivergenceError(
                f"{rule.name} diverged: the loss or the parameters became NaN/Inf at step {bad} "
                f"(learning_rate={kparams.learning_rate}). Lower the learning rate.",
                step=int(bad),
            )
        params = ou.mean if is_ou else theta
        rec_steps.append(int(hi))
        rec_queries.append(queries)
        rec_wall.append(wall)
        curves["batch_loss"].append(float(np.mean(step_loss[lo:hi])))
        record(params)
    final = ou.mean if is_ou else theta
    curves = {k: np.asarray(v, dtype=float) for k, v in curves.items()}
    return History(
        "steps",
        {
            "steps": np.asarray(rec_steps),
            "queries": np.asarray(rec_queries),
            "wall_s": np.asarray(rec_wall),
            **curves,
            "theta": final.copy(),
            "total_queries": int(rec_queries[-1]),
        },
        dims={"theta": ("parameter",)},
    )


def __getattr__(name: str):
    if name == "TrainResult":
        warnings.warn(
            "neurolearn.zo.TrainResult is deprecated: train returns a neurolearn._history.History "
            "(the curves are its entries: res.test_loss instead of res.curves['test_loss'])",
            DeprecationWarning,
            stacklevel=2,
        )
        return History
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
