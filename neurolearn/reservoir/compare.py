"""The three comparisons of adaptive E/I reservoirs (Srinivasan, Plenz & Girvan 2025).

* :func:`robustness` - performance against the starting balance ``beta0`` for fixed (untuned)
  reservoirs and for the same reservoirs after local adaptation;
* :func:`local_vs_global` - the local rule against rate-matched global tuning (one scalar on
  all inhibition), both aiming at the same homogeneous target rate;
* :func:`heterogeneity` - homogeneous against Beta-distributed targets, both local.

Each returns an ``xarray.Dataset`` (every value, per seed); ``*_table`` formats it as
mean +- sd over seeds with the gain, and ``neurolearn.plots.*_figure`` draws it. Every gain is
:func:`relative_gain`. For one seed, the fixed, adapted, local and global reservoirs share the
network draw and every task input.
"""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn.errors import (
    DivergenceError,
    NotConvergedWarning,
    ParameterError,
    UnreachableTargetWarning,
)
from neurolearn.reservoir import protocols
from neurolearn.reservoir._declared import BETA_2_2
from neurolearn.reservoir.ei import EIReservoir
from neurolearn.tasks import narma

__all__ = [
    "relative_gain",
    "GAIN_DEFINITION",
    "TASKS",
    "robustness",
    "robustness_table",
    "local_vs_global",
    "local_vs_global_table",
    "heterogeneity",
    "heterogeneity_table",
]

#: task name -> (metric label, which direction is better)
TASKS = {
    "memory-capacity": ("MC", "higher"),
    "narma10": ("NARMA-10 NRMSE", "lower"),
    "mackey-glass": ("Mackey-Glass free-run NRMSE", "lower"),
}

GAIN_DEFINITION = (
    "gain = MC_new / MC_ref - 1 for memory capacity, NRMSE_ref / NRMSE_new - 1 for errors "
    "(ratio of scores minus one; +100% = twice the capacity or half the error)"
)

#: shorter task settings for ``quick`` runs (the defaults are those of the shipped task specs)
_QUICK = {
    "memory-capacity": dict(max_delay=40, train_steps=1000, test_steps=300),
    "narma10": dict(train_steps=1000, test_steps=300),
    "mackey-glass": dict(train_steps=1000, test_steps=300, free_run_steps=50),
}

#: most input steps the local rule may use, and the steps of rate-matched global tuning
LOCAL_STEPS = 20000
GLOBAL_STEPS = 2000
#: input steps each rule of :func:`local_vs_global` may adapt on
RULE_STEPS = {"local": LOCAL_STEPS, "global": GLOBAL_STEPS, "intrinsic": LOCAL_STEPS}


def relative_gain(value, reference, better="higher"):
    """The one gain of every comparison table: a ratio of scores minus one.

    ``value / reference - 1`` for a score where higher is better (memory capacity),
    ``reference / value - 1`` for an error (NRMSE). Positive means ``value`` is better; +1.0
    (+100%) is twice the capacity or half the error, and a gain is not capped at 100%.

    Parameters
    ----------
    value, reference : float or array
        The compared score and the one it is compared with (means over seeds).
    better : {"higher", "lower"}

    Examples
    --------
    >>> round(relative_gain(23.0, 10.0, "higher"), 6)
    1.3
    >>> relative_gain(0.2, 0.4, "lower")
    1.0
    >>> round(relative_gain(0.5, 0.4, "lower"), 6)
    -0.2
    """
    if better not in ("higher", "lower"):
        raise ParameterError(
            f"The 'better' parameter of relative_gain must be 'higher' or 'lower'. Got {better!r}."
        )
    value = np.asarray(value, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = value / reference - 1.0 if better == "higher" else reference / value - 1.0
    return float(out) if out.ndim == 0 else out


def _check_tasks(tasks, owner):
    tasks = tuple(tasks)
    bad = [t for t in tasks if t not in TASKS]
    if bad or not tasks:
        raise ParameterError(
            f"The 'tasks' parameter of {owner} must be a non-empty list of "
            f"{', '.join(map(repr, TASKS))}. Got {list(tasks)!r} instead."
        )
    return tasks


def _score(res, task, seed, adapt_steps, quick) -> float:
    """One task's score of ``res`` (adapting first on ``adapt_steps`` of that task's input)."""
    kw = dict(_QUICK[task]) if quick else {}
    kw.update(adapt_steps=adapt_steps, seed=seed)
    with warnings.catch_warnings():
        # non-convergence and unreachable units are recorded in the dataset, not printed
        warnings.simplefilter("ignore", (NotConvergedWarning, UnreachableTargetWarning))
        if task == "memory-capacity":
            if quick:
                kw["washout"] = 100
            return protocols.memory_capacity(res, **kw)["total"]
        if task == "narma10":
            return protocols.narma_prediction(res, **kw)["nrmse"]
        return protocols.mackey_glass_prediction(res, **kw)["nrmse_free_run"]


def _network(n, seed, **kw) -> EIReservoir:
    return EIReservoir(n=n, seed=seed, **kw)


def _task_seed(seed: int, task: str, quick: bool) -> int:
    """The input seed of ``task`` for network seed ``seed``, the same for every compared run.

    NARMA-10 itself diverges for a few input draws (a property of the input alone, before any
    reservoir sees it); such a draw is replaced by the next candidate seed.
    """
    base = 10_000 * (1 + list(TASKS).index(task)) + seed
    if task != "narma10":
        return base
    kw = _QUICK[task] if quick else {}
    length = 200 + kw.get("train_steps", 5000) + kw.get("test_steps", 2000) + 1
    for k in range(100):
        candidate = base + 100 * k
        _, rng_u = np.random.default_rng(candidate).spawn(2)
        try:
            narma(rng_u.uniform(0.0, 0.5, length), 10)
        except DivergenceError:
            continue
        return candidate
    raise DivergenceError(f"no NARMA-10 input draw without divergence near seed {base}.")


def _stats(values):
    v = np.asarray(values, dtype=np.float64)
    sd = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return float(np.mean(v)), sd


def _fmt(values, digits=3):
    mean, sd = _stats(values)
    return f"{mean:.{digits}f} +- {sd:.{digits}f}"


def _pct(g):
    if not np.isfinite(g):
        return "n/a"
    return "+0%" if round(100 * g) == 0 else f"{100 * g:+.0f}%"


# -- robustness --------------------------------------------------------------------------------
def robustness(
    *,
    n=300,
    seeds=5,
    betas=(-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5),
    tasks=("memory-capacity", "narma10", "mackey-glass"),
    target_rate=None,
    quick=False,
    progress=None,
):
    """Fixed (untuned) reservoirs against the same reservoirs after local adaptation, over beta0.

    For every seed and starting balance ``beta0`` (``balance`` of
    :class:`~neurolearn.reservoir.EIReservoir`), one network is scored as drawn and,
    separately, after local adaptation on that task's input (default targets Beta(2, 2)).

    Parameters
    ----------
    n : int, default=300
    seeds : int, default=5
    betas : sequence of float
        Starting balances.
    tasks : sequence of str
        Keys of ``TASKS``.
    target_rate : float, dict or None
        Targets of the local rule (None: Beta(2, 2)).
    quick : bool, default=False
        Shorter task inputs (for a fast demo); the defaults are the shipped task specs.
    progress : callable or None
        Called with a short label after every scored run.

    Returns
    -------
    xarray.Dataset
        ``score (task, mode, beta0, seed)`` with ``mode`` in ``fixed``/``adapted``;
        ``final_balance``, ``fraction_within``, ``adapt_steps`` ``(task, beta0, seed)`` of the
        adapted runs; attrs ``n``, ``gain``.

    Examples
    --------
    >>> ds = robustness(n=60, seeds=1, betas=(-1.0, 0.0), tasks=("memory-capacity",),
    ...                 quick=True)
    >>> ds["score"].dims
    ('task', 'mode', 'beta0', 'seed')
    """
    import xarray as xr

    tasks = _check_tasks(tasks, "robustness")
    betas = [float(b) for b in betas]
    shape = (len(tasks), 2, len(betas), seeds)
    score = np.full(shape, np.nan)
    final = np.full((len(tasks), len(betas), seeds), np.nan)
    within = np.full_like(final, np.nan)
    steps = np.full_like(final, np.nan)
    target = BETA_2_2 if target_rate is None else target_rate
    for ti, task in enumerate(tasks):
        for bi, beta in enumerate(betas):
            for s in range(seeds):
                tseed = _task_seed(s, task, quick)
                fixed = _network(n, s, balance=beta, adaptation="none", target_rate=target)
                score[ti, 0, bi, s] = _score(fixed, task, tseed, 0, quick)
                local = _network(n, s, balance=beta, adaptation="local", target_rate=target)
                score[ti, 1, bi, s] = _score(local, task, tseed, LOCAL_STEPS, quick)
                final[ti, bi, s] = local.balance_
                within[ti, bi, s] = local.fraction_within_
                steps[ti, bi, s] = local.adapt_steps_
                if progress is not None:
                    progress(f"robustness {task} beta0={beta:+.2f} seed {s}")
    dims = ("task", "beta0", "seed")
    return xr.Dataset(
        {
            "score": (("task", "mode", "beta0", "seed"), score),
            "final_balance": (dims, final),
            "fraction_within": (dims, within),
            "adapt_steps": (dims, steps),
        },
        coords={"task": list(tasks), "mode": ["fixed", "adapted"], "beta0": betas},
        attrs={"n": n, "seeds": seeds, "gain": GAIN_DEFINITION, "comparison": "robustness"},
    )


def _better_index(values, better):
    return int(np.nanargmax(values) if better == "higher" else np.nanargmin(values))


def robustness_table(ds) -> str:
    """Mean +- sd per task and beta0, fixed vs adapted, with the gain at each beta0 and at the
    best fixed beta0.

    Examples
    --------
    >>> ds = robustness(n=60, seeds=1, betas=(0.0,), tasks=("narma10",), quick=True)
    >>> print(robustness_table(ds).splitlines()[0])
    Robustness: fixed (untuned) vs locally adapted, N = 60, 1 seed(s), mean +- sd over seeds
    """
    lines = [
        f"Robustness: fixed (untuned) vs locally adapted, N = {ds.attrs['n']}, "
        f"{ds.sizes['seed']} seed(s), mean +- sd over seeds",
        ds.attrs["gain"],
    ]
    for task in ds["task"].values:
        label, better = TASKS[str(task)]
        sc = ds["score"].sel(task=task)
        lines.append(f"\n{task}: {label} ({better} is better)")
        lines.append(
            f"{'beta0':>6} {'fixed':>17} {'adapted':>17} {'gain':>7} {'final beta':>16} "
            f"{'units at target':>15}"
        )
        for b in ds["beta0"].values:
            f = sc.sel(mode="fixed", beta0=b).values
            a = sc.sel(mode="adapted", beta0=b).values
            g = relative_gain(np.mean(a), np.mean(f), better)
            fb = ds["final_balance"].sel(task=task, beta0=b).values
            fw = ds["fraction_within"].sel(task=task, beta0=b).values
            lines.append(
                f"{b:>+6.2f} {_fmt(f):>17} {_fmt(a):>17} {_pct(g):>7} {_fmt(fb):>16} "
                f"{100 * np.mean(fw):>14.0f}%"
            )
        fixed_means = sc.sel(mode="fixed").mean("seed").values
        best = _better_index(fixed_means, better)
        b_best = float(ds["beta0"].values[best])
        adapted_best = float(sc.sel(mode="adapted").isel(beta0=best).mean())
        adapted_all = float(sc.sel(mode="adapted").mean())
        gain_best = relative_gain(adapted_best, fixed_means[best], better)
        gain_all = relative_gain(adapted_all, fixed_means[best], better)
        lines.append(
            f"best fixed beta0 = {b_best:+.2f}: gain of adaptation there {_pct(gain_best)}; "
            f"adapted runs over all beta0 vs best fixed {_pct(gain_all)}"
        )
    return "\n".join(lines)


# -- local vs global ---------------------------------------------------------------------------
def local_vs_global(
    *,
    n=300,
    seeds=5,
    rhos=(0.2, 0.3, 0.5, 0.7),
    tasks=("memory-capacity", "narma10"),
    balance=None,
    rules=("local", "global"),
    quick=False,
    progress=None,
):
    """The local rule vs rate-matched global tuning at the same homogeneous target ``rho``.

    Both start from the same network (``balance`` as drawn by default, i.e. beta0 ~ 0):
    local adapts every unit toward ``rho``; global scales all of ``A_I`` by one scalar until
    the population mean rate is ``rho``. ``rules`` may add ``"intrinsic"``: intrinsic
    plasticity of every unit's gain and bias toward exponential outputs of mean ``rho``
    (Triesch 2005), the classic homeostatic alternative, on as many input steps as the local
    rule may use.

    Returns
    -------
    xarray.Dataset
        ``score (task, rule, rho, seed)`` with ``rule`` in ``rules``;
        ``final_balance``, ``fraction_within`` of the same shape.

    Examples
    --------
    >>> ds = local_vs_global(n=60, seeds=1, rhos=(0.5,), tasks=("narma10",), quick=True)
    >>> ds["rule"].values.tolist()
    ['local', 'global']
    """
    import xarray as xr

    tasks = _check_tasks(tasks, "local_vs_global")
    rules = list(rules)
    unknown = [r for r in rules if r not in RULE_STEPS]
    if unknown or not rules or "local" not in rules:
        raise ParameterError(
            "The 'rules' parameter of local_vs_global must include 'local' and take only "
            f"{', '.join(repr(r) for r in RULE_STEPS)}. Got {rules!r} instead."
        )
    rhos = [float(r) for r in rhos]
    shape = (len(tasks), len(rules), len(rhos), seeds)
    score, final, within = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    for ti, task in enumerate(tasks):
        for ri, rho in enumerate(rhos):
            for s in range(seeds):
                tseed = _task_seed(s, task, quick)
                for mi, mode in enumerate(rules):
                    res = _network(n, s, balance=balance, adaptation=mode, target_rate=rho)
                    score[ti, mi, ri, s] = _score(res, task, tseed, RULE_STEPS[mode], quick)
                    final[ti, mi, ri, s] = res.balance_
                    within[ti, mi, ri, s] = res.fraction_within_
                if progress is not None:
                    progress(f"local vs global {task} rho={rho} seed {s}")
    dims = ("task", "rule", "rho", "seed")
    return xr.Dataset(
        {"score": (dims, score), "final_balance": (dims, final), "fraction_within": (dims, within)},
        coords={"task": list(tasks), "rule": rules, "rho": rhos},
        attrs={"n": n, "seeds": seeds, "gain": GAIN_DEFINITION, "comparison": "local-vs-global"},
    )


def local_vs_global_table(ds) -> str:
    """Mean +- sd per task and target, local vs global, gain of local over global.

    Examples
    --------
    >>> ds = local_vs_global(n=60, seeds=1, rhos=(0.5,), tasks=("narma10",), quick=True)
    >>> "gain of local over global" in local_vs_global_table(ds)
    True
    """
    others = [r for r in ds["rule"].values.tolist() if r != "local"]
    names = {"global": "global", "intrinsic": "intrinsic"}
    lines = [
        "Local vs rate-matched global tuning"
        + (" and intrinsic plasticity" if "intrinsic" in others else "")
        + f" at the same homogeneous target rho, N = {ds.attrs['n']}, "
        f"{ds.sizes['seed']} seed(s), mean +- sd over seeds",
        ds.attrs["gain"] + "; gain of local over " + " and over ".join(others),
    ]
    for task in ds["task"].values:
        label, better = TASKS[str(task)]
        lines.append(f"\n{task}: {label} ({better} is better)")
        head = f"{'rho':>5} {'local':>17}"
        for other in others:
            head += f" {names[other]:>17} {'gain':>7}"
        head += f" {'beta ' + '/'.join(['local', *others]):>24} {'at target':>16}"
        lines.append(head)
        for rho in ds["rho"].values:
            sel = {"task": task, "rho": rho}
            loc = ds["score"].sel(rule="local", **sel).values
            row = f"{rho:>5.2f} {_fmt(loc):>17}"
            for other in others:
                vals = ds["score"].sel(rule=other, **sel).values
                g = relative_gain(np.mean(loc), np.mean(vals), better)
                row += f" {_fmt(vals):>17} {_pct(g):>7}"
            betas = " / ".join(
                _fmt(ds["final_balance"].sel(rule=r, **sel).values) for r in ["local", *others]
            )
            within = " / ".join(
                f"{100 * np.mean(ds['fraction_within'].sel(rule=r, **sel).values):.0f}%"
                for r in ["local", *others]
            )
            lines.append(f"{row} {betas:>24} {within:>16}")
    return "\n".join(lines)


# -- heterogeneity -----------------------------------------------------------------------------
def heterogeneity(
    *,
    n=300,
    seeds=5,
    distribution=None,
    tasks=("memory-capacity", "narma10"),
    balance=None,
    quick=False,
    progress=None,
):
    """Homogeneous vs heterogeneous targets, both with the local rule.

    The homogeneous target is the mean of ``distribution`` (default Beta(2, 2), mean 0.5), so
    only the spread differs.

    Returns
    -------
    xarray.Dataset
        ``score (task, targets, seed)`` with ``targets`` in ``homogeneous``/``heterogeneous``;
        ``final_balance``, ``fraction_within`` of the same shape; attrs ``distribution``.

    Examples
    --------
    >>> ds = heterogeneity(n=60, seeds=1, tasks=("memory-capacity",), quick=True)
    >>> ds["targets"].values.tolist()
    ['homogeneous', 'heterogeneous']
    """
    import xarray as xr

    tasks = _check_tasks(tasks, "heterogeneity")
    dist = dict(BETA_2_2 if distribution is None else distribution)
    if dist.get("dist") != "beta":
        raise ParameterError(
            "The 'distribution' parameter of heterogeneity must be a Beta distribution dict "
            f"{{'dist': 'beta', 'a': .., 'b': ..}}. Got {distribution!r} instead."
        )
    mean = dist["a"] / (dist["a"] + dist["b"])
    shape = (len(tasks), 2, seeds)
    score, final, within = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    for ti, task in enumerate(tasks):
        for s in range(seeds):
            tseed = _task_seed(s, task, quick)
            for k, target in enumerate((mean, dist)):
                res = _network(n, s, balance=balance, adaptation="local", target_rate=target)
                score[ti, k, s] = _score(res, task, tseed, LOCAL_STEPS, quick)
                final[ti, k, s] = res.balance_
                within[ti, k, s] = res.fraction_within_
            if progress is not None:
                progress(f"heterogeneity {task} seed {s}")
    dims = ("task", "targets", "seed")
    return xr.Dataset(
        {"score": (dims, score), "final_balance": (dims, final), "fraction_within": (dims, within)},
        coords={"task": list(tasks), "targets": ["homogeneous", "heterogeneous"]},
        attrs={
            "n": n,
            "seeds": seeds,
            "gain": GAIN_DEFINITION,
            "comparison": "heterogeneity",
            "distribution": f"Beta({dist['a']:g}, {dist['b']:g}), homogeneous rho = {mean:g}",
        },
    )


def heterogeneity_table(ds) -> str:
    """Mean +- sd per task, homogeneous vs heterogeneous targets, gain of heterogeneous.

    Examples
    --------
    >>> ds = heterogeneity(n=60, seeds=1, tasks=("narma10",), quick=True)
    >>> "gain of heterogeneous over homogeneous" in heterogeneity_table(ds)
    True
    """
    lines = [
        f"Heterogeneous vs homogeneous targets (both local), {ds.attrs['distribution']}, "
        f"N = {ds.attrs['n']}, {ds.sizes['seed']} seed(s), mean +- sd over seeds",
        ds.attrs["gain"] + "; gain of heterogeneous over homogeneous",
        f"{'task':<16} {'metric':<16} {'homogeneous':>17} {'heterogeneous':>17} {'gain':>7} "
        f"{'beta (hom/het)':>16}",
    ]
    for task in ds["task"].values:
        label, better = TASKS[str(task)]
        hom = ds["score"].sel(task=task, targets="homogeneous").values
        het = ds["score"].sel(task=task, targets="heterogeneous").values
        b = ds["final_balance"].sel(task=task).mean("seed").values
        g = relative_gain(np.mean(het), np.mean(hom), better)
        lines.append(
            f"{str(task):<16} {label[:16]:<16} {_fmt(hom):>17} {_fmt(het):>17} {_pct(g):>7} "
            f"{b[0]:>+7.3f}/{b[1]:<+7.3f}"
        )
    return "\n".join(lines)
