"""Malformed command lines are refused before anything runs, in every family.

Each invocation must exit 2 with at most 3 lines on stderr (argparse: a usage line and the
error; otherwise one line naming the key, the value and what was expected), no traceback,
nothing written (neither in the ``--out`` folder nor in the working directory), and it must be
refused in well under 2 s: before any weight is drawn, any kernel compiled or any array of the
run allocated. Most rows run in-process through ``neurolearn.cli.main`` (wall time of the
refusal under 2 s); a representative subset runs through the real ``python -m neurolearn``
entry point (CPU time of the whole new interpreter under 2 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurolearn.cli import main

ROOT = Path(__file__).resolve().parents[2]
BIG = 10_000_000  # units: every family's estimate for this size is terabytes


def _set(case_id, model, task, override, fragment):
    """A row refusing ``run MODEL TASK --set OVERRIDE`` with ``fragment`` in the message."""
    return (case_id, ["run", model, task, "--set", override], fragment)


#: (id, argv, fragment of the message). ``{out}`` is a fresh folder path, ``{file}`` an
#: existing file, ``{full}`` a non-empty folder, ``{binary}`` a non-UTF-8 spec file,
#: ``{empty_toml}`` a spec without tables.
CASES = [
    # ------------------------------------------------------------ argparse (usage + error)
    ("bare-run", ["run"], "required: model, task"),
    ("run-one-arg", ["run", "esn"], "required: task"),
    ("seed-abc", ["run", "esn", "narma10", "--seed", "abc"], "invalid int value: 'abc'"),
    ("seed-float", ["run", "esn", "narma10", "--seed", "1.5"], "invalid int value"),
    ("unknown-backend", ["run", "esn", "narma10", "--backend", "cuda"], "invalid choice"),
    ("unknown-option", ["run", "esn", "narma10", "--bogus"], "unrecognized arguments"),
    ("unknown-command", ["frobnicate"], "invalid choice"),
    ("scan-no-out", ["scan", "esn", "narma10", "--grid", "network.n=10,20"], "--out"),
    ("scan-no-grid", ["scan", "esn", "narma10", "--out", "{out}"], "--grid"),
    ("scan-seeds-abc", ["scan", "esn", "narma10", "--grid", "network.n=10", "--seeds", "x"], "x"),
    (
        "scan-workers-and-scheduler",
        [
            "scan",
            "esn",
            "narma10",
            "--grid",
            "network.n=10",
            "--out",
            "{out}",
            "--workers",
            "2",
            "--scheduler",
            "synchronous",
        ],
        "not allowed with",
    ),
    ("long-seed", ["run", "esn", "narma10", "--seed", "9" * 300 + "x"], "..."),
    # ------------------------------------------------------------ names and files
    ("unknown-model", ["run", "esm", "narma10"], "Did you mean 'esn'"),
    ("unknown-task", ["run", "esn", "narma11"], "unknown task"),
    ("missing-file", ["run", "nope/model.toml", "narma10"], "does not exist"),
    ("binary-spec", ["run", "{binary}", "narma10"], "not a UTF-8 text file"),
    ("folder-as-spec", ["run", "{full}/", "narma10"], "is a folder"),
    ("spec-without-tables", ["run", "{empty_toml}", "narma10"], "[network]"),
    ("long-model-name", ["run", "m" * 500, "narma10"], "..."),
    # ------------------------------------------------------------ --set syntax
    _set("set-no-equals", "esn", "narma10", "network.n", "KEY=VALUE"),
    _set("set-no-section", "esn", "narma10", "n=10", "SECTION.KEY"),
    _set("set-empty-part", "esn", "narma10", "network..n=10", "SECTION.KEY"),
    _set("set-unknown-section", "esn", "narma10", "netwrok.n=10", "netwrok"),
    _set("set-top-level-scalar", "esn", "narma10", "description.x=1", "table"),
    _set("set-kind-list", "esn", "narma10", "network.kind=[1]", "network.kind"),
    _set("set-rule-kind-int", "esn", "narma10", "rule.kind=3", "rule.kind"),
    _set("long-value", "esn", "narma10", "network.input_distribution=" + "u" * 400, "..."),
    # ------------------------------------------------------------ reservoir family
    _set("esn-n-float", "esn", "narma10", "network.n=1e12", "network.n"),
    _set("esn-n-float-integral", "esn", "narma10", "network.n=100.0", "an int"),
    _set("esn-n-bool", "esn", "narma10", "network.n=true", "network.n"),
    _set("esn-n-zero", "esn", "narma10", "network.n=0", "network.n"),
    _set("esn-radius-inf", "esn", "narma10", "network.spectral_radius=inf", "spectral_radius"),
    _set("esn-radius-minus-inf", "esn", "narma10", "network.leak=-inf", "leak"),
    _set("esn-radius-nan", "esn", "narma10", "network.spectral_radius=nan", "spectral_radius"),
    _set("esn-leak-string", "esn", "narma10", "network.leak=fast", "network.leak"),
    _set("esn-leak-bool", "esn", "narma10", "network.leak=false", "network.leak"),
    _set("esn-with-rule", "esn", "narma10", "rule.kind=local-ei-adaptation", "rule.kind"),
    _set("esn-memory", "esn", "narma10", f"network.n={BIG}", "memory"),
    _set("esn-mackey-glass-dt", "esn", "mackey-glass", "task.dt=1e-12", "memory"),
    _set("esn-task-steps-float", "esn", "narma10", "task.train_steps=5e3", "task.train_steps"),
    _set("esn-lorenz-bool-int", "esn", "lorenz", "task.repeats=true", "repeats"),
    _set("ei-target-inf", "ei-reservoir", "narma10", "rule.target_rate=inf", "target_rate"),
    _set(
        "ei-target-dist-nan",
        "ei-reservoir",
        "narma10",
        'rule.target_rate={dist="uniform",low=nan,high=0.5}',
        "target_rate",
    ),
    _set(
        "ei-learning-rate-list-inf",
        "ei-reservoir",
        "narma10",
        "rule.learning_rate=[0.01,inf]",
        "learning_rate",
    ),
    (
        "ei-no-inhibitory-unit",
        [
            "run",
            "ei-reservoir",
            "narma10",
            "--set",
            "network.n=40",
            "--set",
            "network.excitatory_fraction=0.999",
        ],
        "excitatory_fraction",
    ),
    _set("ei-memory", "ei-reservoir-global", "memory-capacity", f"network.n={BIG * 10}", "memory"),
    ("esn-out-unwritable", ["run", "esn", "narma10", "--out", "/sys/neurolearn-run"], "written"),
    ("esn-out-under-file", ["run", "esn", "narma10", "--out", "{file}/run"], "under the file"),
    (
        "scan-out-unwritable",
        ["scan", "esn", "narma10", "--grid", "network.n=10,20", "--out", "/sys/nl.zarr"],
        "written",
    ),
    ("ei-out-is-file", ["run", "ei-reservoir", "narma10", "--out", "{file}"], "existing file"),
    ("ei-wrong-task", ["run", "ei-reservoir", "teacher"], "cannot run task kind"),
    # ------------------------------------------------------------ spiking E/I
    _set(
        "spiking-dt-above-refractory",
        "spiking-ei",
        "rate-homeostasis",
        "network.dt_ms=6.0",
        "refractory_ms",
    ),
    _set(
        "spiking-reset-above-threshold",
        "spiking-ei",
        "rate-homeostasis",
        "network.v_reset_mv=-40.0",
        "v_threshold_mv",
    ),
    _set("spiking-n-float", "spiking-ei", "rate-homeostasis", "network.n_exc=4e2", "n_exc"),
    _set(
        "spiking-rate-inf",
        "spiking-ei",
        "rate-homeostasis",
        "network.input_rate_hz=inf",
        "input_rate_hz",
    ),
    _set("spiking-memory", "spiking-ei", "rate-homeostasis", f"network.n_exc={BIG}", "memory"),
    (
        "spiking-torch-backend",
        ["run", "spiking-ei", "rate-homeostasis", "--backend", "torch"],
        "engines",
    ),
    ("spiking-out-full", ["run", "spiking-ei", "rate-homeostasis", "--out", "{full}"], "not empty"),
    # ------------------------------------------------------------ spiking reservoir
    _set("spiking-res-memory", "spiking-reservoir", "narma10", f"network.n={BIG * 10}", "memory"),
    _set(
        "spiking-res-degree-nan",
        "spiking-reservoir",
        "memory-capacity",
        "network.in_degree=nan",
        "in_degree",
    ),
    _set(
        "spiking-res-engine",
        "spiking-reservoir",
        "narma10",
        "network.engine=nest",
        "network.engine",
    ),
    ("spiking-res-wrong-task", ["run", "spiking-reservoir", "lorenz"], "cannot run task kind"),
    # ------------------------------------------------------------ teacher (curl descent)
    _set(
        "curl-flipped-hidden-count",
        "curl-descent",
        "teacher",
        "rule.flipped_hidden=11",
        "rule.flipped_hidden",
    ),
    _set(
        "curl-flipped-inputs-index",
        "curl-descent",
        "teacher",
        "rule.flipped_inputs=[100]",
        "rule.flipped_inputs",
    ),
    _set(
        "curl-flipped-bool", "curl-descent", "teacher", "rule.flipped_hidden=true", "flipped_hidden"
    ),
    ("fa-online", ["run", "feedback-alignment", "teacher-online"], "feedback-alignment"),
    _set("curl-lr-inf", "curl-descent", "teacher", "train.learning_rate=inf", "learning_rate"),
    _set("curl-memory", "curl-descent", "teacher", "task.n_train=100000000000", "memory"),
    _set("backprop-epochs-float", "backprop", "teacher", "train.epochs=1e3", "train.epochs"),
    _set("curl-online-memory", "curl-descent", "teacher-online", f"task.n_inputs={BIG}", "memory"),
    # ------------------------------------------------------------ zeroth order
    _set("zo-hidden-float", "spsa", "digits", "network.hidden=[32.5]", "hidden"),
    _set("zo-hidden-bool", "spsa", "digits", "network.hidden=[true]", "hidden"),
    _set("zo-hidden-empty", "spsa", "digits", "network.hidden=[]", "hidden"),
    _set("zo-sigma-inf", "node-perturbation", "digits", "rule.sigma=inf", "sigma"),
    ("zo-numpy-backend", ["run", "spsa", "digits", "--backend", "numpy"], "numba"),
    _set(
        "zo-teacher-erf",
        "weight-perturbation",
        "teacher",
        "task.teacher_activation=erf",
        "output_activation",
    ),
    _set("zo-memory", "evolution-strategies", "digits", f"network.hidden=[{BIG * 10}]", "memory"),
    _set("zo-budget-float", "forward-gradient", "digits", "train.query_budget=5e4", "query_budget"),
    # ------------------------------------------------------------ rnnfit
    _set("rnn-dt-mismatch", "sparse-rnn", "soc-reaching", "network.dt_ms=10.0", "dt_ms"),
    ("rnn-numpy-backend", ["run", "sparse-rnn", "soc-reaching", "--backend", "numpy"], "numba"),
    (
        "rnn-dt-above-tau",
        [
            "run",
            "sparse-rnn",
            "soc-reaching",
            "--set",
            "network.dt_ms=40.0",
            "--set",
            "task.dt_ms=40.0",
            "--set",
            "network.tau_ms=30.0",
        ],
        "tau_ms",
    ),
    (
        "rnn-too-few-units",
        [
            "run",
            "sparse-rnn",
            "soc-reaching",
            "--set",
            "network.n_units=5",
            "--set",
            "task.recorded_fraction=1.0",
        ],
        "n_units",
    ),
    (
        "force-too-few-units",
        [
            "run",
            "force-rnn",
            "soc-reaching",
            "--set",
            "network.n_units=5",
            "--set",
            "task.recorded_fraction=0.5",
        ],
        "n_units",
    ),
    _set("rnn-memory", "sparse-rnn", "soc-reaching", f"network.n_units={BIG}", "memory"),
    (
        "rnn-teacher-memory",
        [
            "run",
            "output-only-rnn",
            "soc-reaching",
            "--set",
            f"task.n_neurons={BIG}",
            "--set",
            "task.recorded_fraction=0.0",
        ],
        "memory",
    ),
    _set("rnn-epochs-float", "sparse-rnn", "soc-reaching", "rule.n_epochs=1e3", "n_epochs"),
    _set(
        "rnn-recorded-nan",
        "sparse-rnn",
        "soc-reaching",
        "task.recorded_fraction=nan",
        "recorded_fraction",
    ),
    # ------------------------------------------------------------ scan
    (
        "scan-grid-float-int",
        ["scan", "esn", "narma10", "--grid", "network.n=10.5,20", "--out", "{out}"],
        "network.n",
    ),
    (
        "scan-grid-inf",
        ["scan", "esn", "narma10", "--grid", "network.spectral_radius=0.5,inf", "--out", "{out}"],
        "finite",
    ),
    (
        "scan-set-inf",
        [
            "scan",
            "esn",
            "narma10",
            "--grid",
            "network.n=10,20",
            "--set",
            "network.leak=inf",
            "--out",
            "{out}",
        ],
        "network.leak",
    ),
    (
        "scan-memory",
        [
            "scan",
            "esn",
            "narma10",
            "--grid",
            f"network.n=20,{BIG}",
            "--out",
            "{out}",
            "--scheduler",
            "synchronous",
        ],
        "memory",
    ),
    (
        "scan-memory-workers",
        [
            "scan",
            "sparse-rnn",
            "soc-reaching",
            "--grid",
            f"network.n_units=20,{BIG // 10}",
            "--out",
            "{out}",
            "--workers",
            "2",
        ],
        "memory",
    ),
    (
        "scan-cross-field",
        ["scan", "curl-descent", "teacher", "--grid", "rule.flipped_hidden=1,50", "--out", "{out}"],
        "flipped_hidden",
    ),
    (
        "scan-fa-online",
        [
            "scan",
            "feedback-alignment",
            "teacher-online",
            "--grid",
            "train.learning_rate=0.1,0.2",
            "--out",
            "{out}",
        ],
        "feedback-alignment",
    ),
    (
        "scan-spiking-backend",
        [
            "scan",
            "spiking-ei",
            "rate-homeostasis",
            "--grid",
            "network.n_exc=10,20",
            "--backend",
            "torch",
            "--out",
            "{out}",
        ],
        "engines",
    ),
    (
        "scan-zo-numpy",
        [
            "scan",
            "spsa",
            "digits",
            "--grid",
            "rule.n_probes=1,2",
            "--backend",
            "numpy",
            "--out",
            "{out}",
        ],
        "numba",
    ),
    (
        "scan-rnn-dt",
        [
            "scan",
            "sparse-rnn",
            "soc-reaching",
            "--grid",
            "network.dt_ms=10.0,20.0",
            "--out",
            "{out}",
        ],
        "dt_ms",
    ),
    (
        "scan-spiking-res-memory",
        [
            "scan",
            "spiking-reservoir",
            "memory-capacity",
            "--grid",
            f"network.n=20,{BIG * 10}",
            "--out",
            "{out}",
        ],
        "memory",
    ),
    (
        "scan-unknown-key",
        ["scan", "ei-reservoir", "narma10", "--grid", "network.gian=1,2", "--out", "{out}"],
        "gain",
    ),
    (
        "scan-bad-range",
        ["scan", "esn", "narma10", "--grid", "network.n=10:20", "--out", "{out}"],
        "START:STOP:NUM",
    ),
    (
        "scan-seed-grid",
        ["scan", "esn", "narma10", "--grid", "seed.x=1,2", "--out", "{out}"],
        "seed",
    ),
]

#: ids also run through the real entry point (a new interpreter), one or more per family
SUBPROCESS = {
    "seed-abc",
    "scan-no-out",
    "binary-spec",
    "esn-n-float",
    "esn-memory",
    "ei-out-is-file",
    "spiking-memory",
    "spiking-res-memory",
    "curl-flipped-hidden-count",
    "zo-teacher-erf",
    "rnn-memory",
    "scan-memory-workers",
}


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A working directory with the files the table refers to; returns the substitutions."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "existing.txt").write_text("not a folder\n")
    full = work / "full"
    full.mkdir()
    (full / "keep.txt").write_text("earlier result\n")
    (work / "binary.toml").write_bytes(b"\xff\xfe\x00spec_version = 1\n\x80\x81")
    (work / "empty.toml").write_text("spec_version = 1\n")
    monkeypatch.chdir(work)
    subs = {
        "out": str(work / "new-out"),
        "file": str(work / "existing.txt"),
        "full": str(full),
        "binary": str(work / "binary.toml"),
        "empty_toml": str(work / "empty.toml"),
    }
    return work, subs


def _snapshot(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    } | {str(p.relative_to(folder)) + "/": 0 for p in folder.rglob("*") if p.is_dir()}


def _argv(args, subs):
    return [a.format(**subs) if "{" in a and "=" not in a else a for a in args]


def _check_stderr(err: str, fragment: str):
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 3, err
    assert "Traceback" not in err, err
    assert fragment in err, err
    assert all(len(line) < 600 for line in lines), err


@pytest.fixture(scope="module", autouse=True)
def _families_imported():
    """Import every family's spec tables once, so each row times its refusal alone."""
    from neurolearn import registry

    for module in set(registry.MODEL_FAMILIES.values()):
        __import__(module)


def test_table_is_large_and_covers_every_family():
    from neurolearn import registry, specs

    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)
    seen = {"run": set(), "scan": set()}
    for _, argv, _ in CASES:
        if argv[0] in seen and len(argv) > 2 and argv[1] in specs.available("models"):
            kind = specs.load_model(argv[1]).network.kind_name
            seen[argv[0]].add(registry.MODEL_FAMILIES[kind])
    families = {m for m in registry.MODEL_FAMILIES.values() if m.startswith("neurolearn.")}
    assert seen["run"] == families and seen["scan"] == families
    assert SUBPROCESS <= {case[0] for case in CASES}


@pytest.mark.parametrize("case_id, args, fragment", CASES, ids=[c[0] for c in CASES])
def test_refused_in_process(case_id, args, fragment, place, capsys):
    work, subs = place
    before = _snapshot(work)
    start = time.perf_counter()
    code = main(_argv(args, subs))
    wall = time.perf_counter() - start
    captured = capsys.readouterr()
    assert code == 2, captured.err
    _check_stderr(captured.err, fragment)
    assert _snapshot(work) == before, "a refused invocation wrote something"
    assert wall < 2.0, f"refused after {wall:.2f} s: work was done before the refusal"


@pytest.mark.parametrize(
    "case_id, args, fragment",
    [c for c in CASES if c[0] in SUBPROCESS],
    ids=[c[0] for c in CASES if c[0] in SUBPROCESS],
)
def test_refused_by_the_real_entry_point(case_id, args, fragment, place):
    """A new interpreter refuses using under 2 s of CPU, its imports included.

    The bound is on the child's CPU time (user + system), which counts the work done before
    the refusal whatever the load of the machine; its wall time is reported with it.
    """
    import resource

    work, subs = place
    before = _snapshot(work)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "neurolearn", *_argv(args, subs)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=work,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)
    assert proc.returncode == 2, proc.stderr
    _check_stderr(proc.stderr, fragment)
    assert proc.stdout == ""
    assert _snapshot(work) == before, "a refused invocation wrote something"
    assert cpu < 2.0, f"refused after {cpu:.2f} s of CPU ({wall:.2f} s wall)"
