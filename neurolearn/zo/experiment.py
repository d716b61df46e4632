"""Spec tables of the zeroth-order family and ``run_experiment`` for ``nl.run``.

A model is ``[network] kind = "mlp"`` (hidden widths; input and output widths come from the
task), a ``[rule]`` (backprop or one of the perturbation rules) and a ``[train]`` budget counted
in queries (forward passes), the same for every rule so that runs compare per query. Tasks:
``digits`` (cross-entropy, test accuracy) and the student-teacher ``teacher`` task (squared
error against a teacher network, the data of :mod:`neurolearn.tasks.teacher`).
"""

from __future__ import annotations

import numpy as np

from neurolearn._outcome import Outcome
from neurolearn._params import Interval
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.plots.zo import zo_run_figure
from neurolearn.zo import _declared as D
from neurolearn.zo.network import MLP
from neurolearn.zo.rules import RULES
from neurolearn.zo.training import backend_refusal, train

DEFAULT_KINDS = {"rule": "backprop", "train": "query-budget"}
REQUIRED_SECTIONS = {"models": ("network", "rule")}
TASK_KINDS = ("digits", "teacher")


@spec_table("network", "mlp", params=D.MLP_SPEC)
class MLPNetwork(SpecTable):
    """Fully connected network on a flat parameter vector (input/output widths from the task)."""


@spec_table("rule", "backprop", params=D.BACKPROP)
class BackpropRule(SpecTable):
    """Stochastic gradient descent with the backpropagated gradient."""


@spec_table("rule", "weight-perturbation", params=D.WEIGHT_PERTURBATION)
class WeightPerturbationRule(SpecTable):
    """Perturb all weights, correlate the loss change with the noise."""


@spec_table("rule", "node-perturbation", params=D.NODE_PERTURBATION)
class NodePerturbationRule(SpecTable):
    """Noise on every pre-activation; global loss change x node noise x presynaptic activity."""


@spec_table("rule", "spsa", params=D.SPSA)
class SPSARule(SpecTable):
    """Two-sided simultaneous perturbation, MeZO form (directions regenerated from a seed)."""


@spec_table("rule", "forward-gradient", params=D.FORWARD_GRADIENT)
class ForwardGradientRule(SpecTable):
    """Directional derivative (forward-mode JVP) along Gaussian directions."""


@spec_table("rule", "evolution-strategies", params=D.EVOLUTION_STRATEGIES)
class EvolutionStrategiesRule(SpecTable):
    """Antithetic Gaussian ES with a population evaluated together."""


@spec_table("rule", "ou-weight-noise", params=D.OU_WEIGHT_NOISE)
class OUWeightNoiseRule(SpecTable):
    """Reward-modulated Ornstein-Uhlenbeck weight noise."""


@spec_table("train", "query-budget")
class QueryBudget(SpecTable):
    """Training length as a budget of forward passes, equal for every rule."""

    query_budget: int = param(
        50000, Interval(int, 1, None), "forward passes; steps = budget // queries per step"
    )
    max_steps: int = param(50000, Interval(int, 1, None), "cap on steps")
    batch_size: int = param(32, Interval(int, 1, None), "mini-batch size")
    n_records: int = param(40, Interval(int, 2, None), "points on the learning curves")


def build_network(model, task_kind: str, n_inputs: int, n_outputs: int) -> MLP:
    """The :class:`MLP` a model spec describes, sized for the task.

    Examples
    --------
    >>> from neurolearn.specs import load_model
    >>> build_network(load_model("spsa"), "digits", 64, 10).layer_sizes
    (64, 32, 10)
    """
    net = model.network
    teacher = task_kind == "teacher"
    out_act = net.output_activation
    if out_act == "task":
        out_act = "linear"
    bias = net.bias if isinstance(net.bias, bool) else not teacher
    init = net.init if net.init != "task" else ("uniform" if teacher else "normal")
    return MLP(
        layer_sizes=(n_inputs, *net.hidden, n_outputs),
        activation=net.activation,
        output_activation=out_act,
        loss="squared" if teacher else "cross-entropy",
        bias=bias,
        init=init,
        init_scale=net.init_scale,
    )


def build_rule(model):
    """The rule object of a model spec.

    Examples
    --------
    >>> from neurolearn.specs import load_model
    >>> build_rule(load_model("spsa", ["rule.n_probes=4"])).queries_per_step()
    8
    """
    table = model.rule
    kwargs = {k: v for k, v in table.to_dict().items() if k != "kind"}
    return RULES[table.kind_name](**kwargs)


def _task_data(task, seed, model):
    """``(X, Y, eval_sets, teacher_output_activation)`` of a task spec (None for digits)."""
    t = task.task
    if t.kind_name == "digits":
        from neurolearn.tasks.digits import load_digits_split

        split = load_digits_split(t.test_fraction, np.random.default_rng(seed), scaling=t.scaling)
        evals = {
            "train": (split.x_train, split.y_train, split.labels_train),
            "test": (split.x_test, split.y_test, split.labels_test),
        }
        return split.x_train, split.y_train, evals, None
    from neurolearn.tasks.teacher import make_teacher_task

    rng_teacher, rng_data = np.random.default_rng(seed).spawn(2)
    net = model.network
    teacher, data = make_teacher_task(
        t,
        student_activation=net.activation,
        output_activation=None if net.output_activation == "task" else net.output_activation,
        teacher_seed=rng_teacher,
        data_seed=rng_data,
    )
    evals = {"train": (data.x_train, data.y_train), "test": (data.x_test, data.y_test)}
    teacher_out = teacher.output_activation
    return data.x_train, data.y_train, evals, teacher_out


def run_experiment(model, task, *, seed, backend, progress=False) -> Outcome:
    """Train the model's network with its rule on the task within the query budget."""
    import xarray as xr

    from neurolearn.errors import BackendError

    if backend.name not in D.BACKENDS:
        raise BackendError(backend_refusal("the zeroth-order family", backend.name))
    seq_data, seq_train = seed.spawn(2)
    kind = task.task.kind_name
    X, Y, evals, teacher_out = _task_data(task, seq_data, model)
    net = build_network(model, kind, X.shape[1], Y.shape[1])
    if kind == "teacher" and model.network.output_activation == "task":
        if teacher_out not in ("tanh", "relu", "sigmoid", "linear"):
            from neurolearn.errors import SpecError

            raise SpecError(
                f"network.output_activation = 'task' copies the teacher's output activation, "
                f"but {teacher_out!r} is not available to MLP; set network.output_activation "
                "to one of 'tanh', 'relu', 'sigmoid', 'linear'."
            )
        net.output_activation = teacher_out
    rule = build_rule(model)
    budget = model.get("train") or QueryBudget()
    per_step = rule.queries_per_step()
    steps = max(1, min(budget.max_steps, budget.query_budget // per_step))
    batch = min(budget.batch_size, X.shape[0])
    res = train(
        net,
        rule,
        X,
        Y,
        steps=steps,
        batch_size=batch,
        seed=np.random.default_rng(seq_train),
        eval_sets=evals,
        n_records=min(budget.n_records, steps),
        backend=backend.name,
        device=backend.device,
        record_spacing="log",
    )
    coords = {"step": res.steps}
    arrays = {
        "curve_queries": xr.DataArray(res.queries, dims="step", coords=coords),
    }
    for name, curve in res.items():
        if name.endswith(("_loss", "_accuracy")):  # batch_loss and those of the eval sets
            arrays[f"curve_{name}"] = xr.DataArray(curve, dims="step", coords=coords)
    metrics = {
        "test_loss": float(res.test_loss[-1]),
        "train_loss": float(res.train_loss[-1]),
        "queries": float(res.total_queries),
        "steps": float(steps),
        "n_params": float(net.n_params),
    }
    if "test_accuracy" in res:
        metrics["test_accuracy"] = float(res.test_accuracy[-1])
        metrics["train_accuracy"] = float(res.train_accuracy[-1])
    attrs = {
        "rule": rule.name,
        "layer_sizes": ",".join(map(str, net.layer_sizes)),
        # timings are attributes: the data variables of a run depend only on spec and seed
        "train_wall_s": float(res.wall_s[-1]),
        "curve_wall_s": np.asarray(res.wall_s, dtype=float),
    }
    return Outcome(metrics=metrics, arrays=arrays, figure=zo_run_figure, attrs=attrs)


# ---------------------------------------------------------------- checks before a run
MEMORY_KEYS = ("network.hidden", "train.batch_size", "train.query_budget")
_MLP_ACTS = ("tanh", "relu", "sigmoid", "linear")
_DIGITS = (1797, 64, 10)  # images, pixels, classes of the bundled digits


def _task_shape(task) -> tuple[int, int, int, int]:
    """``(n_train, n_test, n_inputs, n_outputs)`` of a task spec, without loading data."""
    t = task.task
    if t.kind_name == "digits":
        n, m, k = _DIGITS
        n_test = int(round(t.test_fraction * n))
        return n - n_test, n_test, m, k
    return t.n_train, t.n_test, t.n_inputs, t.n_outputs


def estimate_memory(model, task) -> int:
    """Peak memory (bytes) of a zeroth-order run, float64 throughout.

    With ``D`` parameters (weights and biases of ``n_inputs, *hidden, n_outputs``), ``L``
    layers, ``w`` the widest layer, ``W`` the sum of the layer widths, ``B`` the batch and
    ``S`` steps (query budget / queries per step, capped by ``max_steps``), the training
    kernel holds: the parameter vector and its work vectors ``48 D``; the activation, noise
    and error buffers of one batch ``8 B w (3 L + 4) + 8 B W`` (perturbed passes run one
    after another), and for evolution strategies those of the whole population at once
    ``8 pop (L + 1) B w`` with its perturbations ``16 pop D``; the batch index plan ``16 S B``
    and per-step losses ``32 S``; the training and test sets with their labels
    ``16 (P + Q)(n_inputs + n_outputs)`` and their activations in the recorded evaluations
    ``16 (P + Q) W``.
    """
    n_train, n_test, m, k = _task_shape(task)
    sizes = [m, *model.network.hidden, k]
    layers = len(sizes) - 1
    params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    widest, widths = max(sizes), sum(sizes)
    rule = model.rule
    q = build_rule(model).queries_per_step()
    budget = model.get("train") or QueryBudget()
    steps = max(1, min(budget.max_steps, budget.query_budget // q))
    batch = min(budget.batch_size, n_train)
    total = 48 * params + 8 * batch * widest * (3 * layers + 4) + 8 * batch * (widths - m)
    if rule.kind_name == "evolution-strategies":
        pop = rule.population
        total += 8 * pop * (layers + 1) * batch * widest + 16 * pop * params
    total += 16 * steps * batch + 32 * steps
    total += 16 * (n_train + n_test) * (m + k) + 16 * (n_train + n_test) * widths
    return int(total)


def check_backend(backend) -> None:
    """The zeroth-order kernels exist for numba and torch only."""
    from neurolearn.errors import BackendError

    if backend.name not in D.BACKENDS:
        raise BackendError(backend_refusal("the zeroth-order family", backend.name))


def check_specs(model, task) -> None:
    """Cross-field constraints of a zeroth-order run: refused before anything is drawn.

    ``output_activation = 'task'`` on a teacher task copies the teacher's activation, which
    must then be one of the MLP's.
    """
    from neurolearn.errors import SpecError

    t, net = task.task, model.network
    if t.kind_name == "teacher" and net.output_activation == "task":
        act = net.activation if t.teacher_activation == "student" else t.teacher_activation
        if act not in _MLP_ACTS:
            raise SpecError(
                f"{model.source}: network.output_activation: 'task' copies the teacher's "
                f"activation, which must then be one of {', '.join(map(repr, _MLP_ACTS))}. "
                f"Got task.teacher_activation = {act!r} ({task.source}) instead; set "
                "network.output_activation explicitly."
            )
