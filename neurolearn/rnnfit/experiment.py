"""Spec tables of the rnnfit family and ``run_experiment`` (student fit to a sparse recording)."""

from __future__ import annotations

import numpy as np

from neurolearn._linalg import ridge_solve
from neurolearn._outcome import Outcome
from neurolearn._schema import SpecTable, spec_table
from neurolearn.plots.rnnfit import rnnfit_run_figure
from neurolearn.rnnfit import _declared as D

__all__ = [
    "RateRNNNetwork",
    "BPTTRule",
    "ForceRule",
    "RnnfitTrain",
    "run_experiment",
    "task_streams",
    "build_task_data",
    "check_backend",
]


@spec_table("network", "rate-rnn", params=D.RATE_RNN_NETWORK)
class RateRNNNetwork(SpecTable):
    """The student: ``tau dx/dt = -x + J tanh(x) + B u + b``, ``z = W_out tanh(x)``."""


@spec_table("rule", "bptt", params=D.BPTT)
class BPTTRule(SpecTable):
    """Backpropagation through time with Adam on outputs + lambda x recorded units."""


@spec_table("rule", "force", params=D.FORCE)
class ForceRule(SpecTable):
    """FORCE / CURBD: recursive least squares on the readout and the recorded units' rows."""


@spec_table("train", "rnnfit", params=D.CHECKPOINT)
class RnnfitTrain(SpecTable):
    """Checkpointing of BPTT training."""


DEFAULT_KINDS = {"rule": "bptt", "train": "rnnfit"}
REQUIRED_SECTIONS = {"models": ("network", "rule")}
TASK_KINDS = ("soc-reaching",)

_TEACHERS: dict = {}


def build_task_data(task, seed):
    """Teacher circuit and recordings of a ``soc-reaching`` task table.

    Returns a dict with ``soc``, ``circuit`` (with its fitted muscle readout) and full
    Recordings ``train``, ``validation``, ``test`` (every neuron), cached per task and seed.
    """
    from neurolearn.rnnfit.circuit import gain
    from neurolearn.rnnfit.conditions import fit_readout, muscle_targets, reach_conditions
    from neurolearn.rnnfit.recording import Recording
    from neurolearn.rnnfit.soc import SOCircuit

    # the circuit depends on the recorded fraction not at all, and on task.seed only through
    # `seed`, which is part of the key
    spec = {k: v for k, v in task.to_dict().items() if k not in ("recorded_fraction", "seed")}
    key = (tuple(sorted(spec.items())), tuple(seed.generate_state(4)))
    if key in _TEACHERS:
        return _TEACHERS[key]
    soc = SOCircuit(
        **{name: getattr(task, spec_key) for spec_key, name in D.SOC_TASK_NAMES.items()},
        seed=np.random.default_rng(seed),
    ).initialize()
    common = dict(
        layout="ring",
        initial_state_rms=task.initial_state_rms,
        prep_ms=task.prep_ms,
        move_ms=task.move_ms,
        ramp_ms=task.ramp_ms,
        dt_ms=task.dt_ms,
    )
    sets = {
        "train": reach_conditions(soc, n_conditions=task.n_conditions, **common),
        "validation": reach_conditions(
            soc,
            n_conditions=task.n_validation_conditions,
            offset=0.25 * task.n_validation_conditions / task.n_conditions,
            **common,
        ),
        "test": reach_conditions(
            soc,
            n_conditions=task.n_test_conditions,
            offset=0.5 * task.n_test_conditions / task.n_conditions,
            **common,
        ),
    }
    train = sets["train"]
    circuit = soc.circuit()
    targets = muscle_targets(
        train.labels, train.states.shape[1], train.go_step, train.dt_ms, n_outputs=task.n_outputs
    )
    circuit.readout = fit_readout(
        gain(
            train.states, baseline_rate_hz=circuit.baseline_rate_hz, max_rate_hz=circuit.max_rate_hz
        ),
        targets,
    )
    out = {"soc": soc, "circuit": circuit}
    for name, rc in sets.items():
        out[name] = Recording.from_circuit(
            circuit,
            rc.states,
            dt_ms=rc.dt_ms,
            recorded=np.arange(circuit.n),
            inputs=rc.inputs,
            labels=rc.labels,
            go_step=rc.go_step,
        )
        out[name + "_states"] = rc.states
    if len(_TEACHERS) > 8:
        _TEACHERS.clear()
    _TEACHERS[key] = out
    return out


#: spec keys whose 0 (or "") is the Python parameter's None ("off")
_OFF = {"batch_size": 0, "grad_clip": 0, "patience": 0, "checkpoint": ""}


def _from_spec(table, names) -> dict:
    """Constructor values of the keys ``names`` of a spec table (a spec's "off" becomes None)."""
    out = {}
    for name in names:
        value = getattr(table, name)
        out[name] = None if name in _OFF and value == _OFF[name] else value
    return out


def _student(model, task, seed, backend):
    from neurolearn.rnnfit.force import ForceStudent
    from neurolearn.rnnfit.student import RNNStudent

    net, rule = model.network, model.rule
    if rule.kind_name == "force":
        student = {k: getattr(net, k) for k in D.STUDENT}
        return ForceStudent(**student, **_from_spec(rule, D.FORCE), seed=seed)
    train = model.get("train") or RnnfitTrain()
    return RNNStudent(
        **_from_spec(net, D.RATE_RNN_NETWORK),
        **_from_spec(rule, D.BPTT),
        **_from_spec(train, D.CHECKPOINT),
        device=backend.device if backend.name == "torch" else "cpu",
        seed=seed,
    )


def _restrict(data, name, recorded):
    from neurolearn.rnnfit.recording import Recording

    full = data[name]
    return Recording.from_circuit(
        data["circuit"],
        data[name + "_states"],
        dt_ms=full.dt_ms,
        recorded=recorded,
        inputs=full.inputs,
        labels=full.labels,
        go_step=full.go_step,
    )


def evaluate(student, data, recorded, metric):
    """Held-out metrics of a fitted student against the teacher of ``data`` (a dict of floats)."""
    from neurolearn.rnnfit import metrics as m

    train, test = data["train"], data["test"]
    n = train.n_recorded
    unrec = np.setdiff1d(np.arange(n), recorded)
    p_train = student.predict(train.inputs)
    p_test = student.predict(test.inputs)
    out = {
        "output_r2_train": m.r2_score(p_train["outputs"], train.outputs),
        "output_r2_test": m.r2_score(p_test["outputs"], test.outputs),
    }
    # metrics that do not apply (no recorded or no unrecorded neuron) are left out, not NaN
    k = len(recorded)
    if k:
        target = (test.rates[:, :, recorded] - student.centre_) / student.scale_
        out["recorded_r2_test"] = m.r2_score(p_test["rates"][:, :, :k], target)
    for label, cols in (("unrecorded", unrec), ("all", np.arange(n))):
        if cols.size == 0:
            continue
        out[f"map_r2_{label}"] = m.linear_map_r2(
            p_train["rates"],
            train.rates[:, :, cols],
            p_test["rates"],
            test.rates[:, :, cols],
            ridge=metric.map_ridge,
        )
        out[f"cca_{label}"] = m.cca_similarity(
            p_test["rates"], test.rates[:, :, cols], metric.cca_components
        )
    go = test.go_step
    teacher_j = m.jpca(
        test.rates, dt_ms=test.dt_ms, start=go, n_pcs=metric.jpca_pcs, soft_norm=metric.soft_norm_hz
    )
    # the student's rates in tanh units, put on the teacher's scale for the soft normalisation
    t_span = float(np.ptp(test.rates, axis=(0, 1)).max())
    s_span = float(np.ptp(p_test["rates"], axis=(0, 1)).max()) or 1.0
    student_j = m.jpca(
        p_test["rates"] * (t_span / s_span),
        dt_ms=test.dt_ms,
        start=go,
        n_pcs=metric.jpca_pcs,
        soft_norm=metric.soft_norm_hz,
    )
    for who, res in (("teacher", teacher_j), ("student", student_j)):
        for key in ("r2_skew", "r2_full", "rotation_ratio", "plane_variance", "frequency_hz"):
            out[f"{who}_jpca_{key}"] = res[key]
    if metric.fixed_points:
        circuit = data["circuit"]
        for who, model, states in (
            ("teacher", circuit, data["test_states"]),
            ("student", student, p_test["states"]),
        ):
            flat = states.reshape(-1, states.shape[2])
            pick = np.linspace(0, flat.shape[0] - 1, metric.fixed_point_starts).astype(int)
            starts = np.vstack([flat[pick], np.zeros((1, flat.shape[1]))])
            pts, eigs = m.find_fixed_points(model.velocity, model.jacobian, starts)
            rest = states[:, -1].mean(axis=0)
            for key, value in m.fixed_point_summary(pts, eigs, rest).items():
                out[f"{who}_{key}"] = value
    return out, p_test


MEMORY_KEYS = ("network.n_units", "task.n_neurons", "task.n_conditions")


def estimate_memory(model, task) -> int:
    """Peak memory (bytes) of an rnnfit run: the teacher, its recordings, the student's fit.

    With ``n`` teacher neurons, ``u`` student units, ``C`` conditions (training, validation
    and test), ``T = (prep_ms + move_ms) / dt_ms + 1`` steps:

    - the teacher: the stability optimisation holds about 20 dense ``(n, n)`` float64 matrices
      (weights, gradients, the Lyapunov solutions and the complex Schur forms), ``160 n^2``;
    - the recordings: states and rates of every condition, kept whole and restricted to the
      recorded neurons, ``32 C T n``;
    - BPTT (``b`` = 4 or 8 bytes per number): the weights with their gradient and two Adam
      moments ``4 b (u^2 + u (n_outputs + 3))`` and the graph of one batch, about 6 tensors of
      ``batch T u`` numbers, ``6 b batch T u``; FORCE: ``P``, ``J`` and the rank-one update
      ``32 u^2``;
    - evaluation: the student's states, rates and outputs on the training and test sets
      ``24 C T u``, and the linear maps between student and teacher ``16 (u + n)^2``.
    """
    net, rule, t = model.network, model.rule, task.task
    n, u = t.n_neurons, net.n_units
    conditions = t.n_conditions + t.n_validation_conditions + t.n_test_conditions
    steps = (t.prep_ms + t.move_ms) / t.dt_ms + 1
    total = 160 * n * n + 32 * conditions * steps * n
    if rule.kind_name == "force":
        fit = 32 * u * u
    else:
        b = 4 if rule.dtype == "float32" else 8
        batch = rule.batch_size or t.n_conditions
        fit = 4 * b * (u * u + u * (t.n_outputs + 3)) + 6 * b * batch * steps * u
    total += fit + 24 * conditions * steps * u + 16 * (u + n) ** 2
    return int(total)


def check_specs(model, task) -> None:
    """Cross-field constraints of an rnnfit run: refused before anything is drawn.

    The student's Euler step must equal the recording's and not exceed its time constant,
    and every recorded neuron needs its own student unit.
    """
    from neurolearn.errors import SpecError

    net, data = model.network, task.task
    dt_data = getattr(data, "dt_ms", None)
    if dt_data is not None and hasattr(net, "dt_ms") and net.dt_ms != dt_data:
        raise SpecError(
            f"{model.source}: network.dt_ms = {net.dt_ms} must equal the recording's "
            f"task.dt_ms = {dt_data} ({task.source}); set both to the same value."
        )
    if net.dt_ms > net.tau_ms:
        raise SpecError(
            f"{model.source}: network.dt_ms: must not exceed network.tau_ms ({net.tau_ms}). "
            f"Got {net.dt_ms} instead."
        )
    recorded = int(round(data.recorded_fraction * data.n_neurons))
    fits_recorded = model.rule.kind_name != "force" or model.rule.fit_recorded
    if fits_recorded and recorded > net.n_units:
        raise SpecError(
            f"{model.source}: network.n_units: must be at least the number of recorded neurons "
            f"({recorded} = task.recorded_fraction {data.recorded_fraction} x task.n_neurons "
            f"{data.n_neurons}). Got {net.n_units} instead."
        )


def check_backend(backend) -> None:
    """The BPTT student runs on torch (on ``backend.device``), FORCE on numba: ``numpy`` has no
    implementation here and is refused, like in the zeroth-order family."""
    from neurolearn.errors import BackendError

    if backend.name == "numpy":
        raise BackendError(
            "The rnnfit family runs on backend='numba' or 'torch' (BPTT on torch, FORCE on "
            "numba); it has no numpy implementation."
        )


def task_streams(task, seed):
    """``(teacher, recording, student)`` seed sequences of one run of a ``soc-reaching`` task.

    The student's stream is always the run ``seed``'s third child. The teacher's and the
    recording's are its first two children, or, when ``task.seed`` is set, the first two
    children of ``SeedSequence(task.seed)``: the ground truth is then fixed by the task alone.

    Examples
    --------
    >>> from neurolearn.specs import load_task
    >>> t = load_task("soc-reaching", ["task.seed=0"]).task
    >>> a = task_streams(t, np.random.SeedSequence(1))
    >>> b = task_streams(t, np.random.SeedSequence(2))
    >>> bool(a[0].generate_state(1) == b[0].generate_state(1))
    True
    """
    teacher_seq, record_seq, student_seq = seed.spawn(3)
    if task.seed is not None:
        teacher_seq, record_seq = np.random.SeedSequence(task.seed).spawn(2)
    return teacher_seq, record_seq, student_seq


def run_experiment(model, task, *, seed, backend, progress=False) -> Outcome:
    """Fit a student to a sparse recording of a stability-optimised circuit; evaluate held out.

    ``seed`` (a ``SeedSequence``) spawns the teacher, the choice of recorded neurons and the
    student's initialisation, in that order. With ``task.seed`` set, the teacher and the
    recorded neurons come from ``task.seed`` instead (spawned in the same order), so runs with
    different ``seed`` train different students on one circuit and one recording.
    """
    import xarray as xr

    check_backend(backend)
    t = task.task
    teacher_seq, record_seq, student_seq = task_streams(t, seed)
    data = build_task_data(t, teacher_seq)
    rng = np.random.default_rng(record_seq)
    n = data["circuit"].n
    recorded = np.sort(rng.choice(n, size=int(round(t.recorded_fraction * n)), replace=False))
    train = _restrict(data, "train", recorded)
    student = _student(model, task, np.random.default_rng(student_seq), backend)
    if model.rule.kind_name == "force":
        student.fit(train)
    else:
        student.fit(train, _restrict(data, "validation", recorded))
    metric = task.get("metric") or _default_metric()
    metrics, p_test = evaluate(student, data, recorded, metric)
    metrics.update(
        {
            "n_recorded": float(len(recorded)),
            "recorded_fraction": float(len(recorded) / n),
            "teacher_spectral_abscissa": float(data["soc"].abscissa_history_[-1]),
            "final_loss": float(student.history_["loss"][-1])
            if len(student.history_["loss"])
            else float("nan"),
        }
    )
    arrays = {
        "loss": xr.DataArray(
            student.history_["loss"],
            dims="epoch",
            coords={"epoch": np.arange(1, len(student.history_["loss"]) + 1)},
        ),
    }
    if "val_loss" in student.history_ and len(student.history_["val_loss"]):
        arrays["val_loss"] = xr.DataArray(
            student.history_["val_loss"],
            dims="val_epoch",
            coords={"val_epoch": student.history_["val_epoch"]},
        )
    arrays.update(_trajectories(data, recorded, student, p_test, metric))
    return Outcome(
        metrics=metrics,
        arrays=arrays,
        figure=rnnfit_run_figure,
        attrs={"recorded_neurons": ",".join(map(str, recorded.tolist()))},
    )


def _default_metric():
    from neurolearn.tasks.reaching import RnnfitMetric

    return RnnfitMetric()


def _trajectories(data, recorded, student, p_test, metric):
    """Teacher test trajectories in its top 3 PCs, and the student's mapped into them."""
    import xarray as xr

    train, test = data["train"], data["test"]
    p_train = student.predict(train.inputs)
    x_tr = p_train["rates"].reshape(-1, p_train["rates"].shape[2])
    y_tr = train.rates.reshape(-1, train.rates.shape[2])
    my = y_tr.mean(0)
    w, c = ridge_solve(x_tr, y_tr, metric.map_ridge, relative=True)
    mapped = p_test["rates"] @ w + c
    _, _, vt = np.linalg.svd(y_tr - my, full_matrices=False)
    basis = vt[:3].T
    dims = ("condition", "t_ms", "pc")
    coords = {
        "condition": test.labels,
        "t_ms": np.arange(test.n_steps) * test.dt_ms,
        "pc": np.arange(1, basis.shape[1] + 1),
    }
    return {
        "teacher_pcs": xr.DataArray((test.rates - my) @ basis, dims=dims, coords=coords),
        "student_pcs": xr.DataArray((mapped - my) @ basis, dims=dims, coords=coords),
        "teacher_outputs": xr.DataArray(
            test.outputs,
            dims=("condition", "t_ms", "output"),
            coords={"condition": test.labels, "t_ms": coords["t_ms"]},
        ),
        "student_outputs": xr.DataArray(
            p_test["outputs"],
            dims=("condition", "t_ms", "output"),
            coords={"condition": test.labels, "t_ms": coords["t_ms"]},
        ),
    }
