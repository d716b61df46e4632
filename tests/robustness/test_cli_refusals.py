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
    ("set-no-equals", ["run", "esn", "narma10", "--set", "network.n"], "KEY=VALUE"),
    ("set-no-section", ["run", "esn", "narma10", "--set", "n=10"], "SECTION.KEY"),
    ("set-empty-part", ["run", "esn", "narma10", "--set", "network..n=10"], "SECTION.KEY"),
    ("set-unknown-section", ["run", "esn", "narma10", "--set", "netwrok.n=10"], "netwrok"),
    ("set-top-level-scalar", ["run", "esn", "narma10", "--set", "description.x=1"], "table"),
    ("set-kind-list", ["run", "esn", "narma10", "--set", "network.kind=[1]"], "network.kind"),
    ("set-rule-kind-int", ["run", "esn", "narma10", "--set", "rule.kind=3"], "rule.kind"),
    (
        "long-value",
        ["run", "esn", "narma10", "--set", "network.input_distribution=" + "u" * 400],
        "...",
    ),
    # ------------------------------------------------------------ reservoir family
    ("esn-n-float", ["run", "esn", "narma10", "--set", "network.n=1e12"], "network.n"),
    ("esn-n-float-integral", ["run", "esn", "narma10", "--set", "network.n=100.0"], "an int"),
    ("esn-n-bool", ["run", "esn", "narma10", "--set", "network.n=true"], "network.n"),
    ("esn-n-zero", ["run", "esn", "narma10", "--set", "network.n=0"], "network.n"),
    (
        "esn-radius-inf",
        ["run", "esn", "narma10", "--set", "network.spectral_radius=inf"],
        "spectral_radius",
    ),
    ("esn-radius-minus-inf", ["run", "esn", "narma10", "--set", "network.leak=-inf"], "leak"),
    (
        "esn-radius-nan",
        ["run", "esn", "narma10", "--set", "network.spectral_radius=nan"],
        "spectral_radius",
    ),
    ("esn-leak-string", ["run", "esn", "narma10", "--set", "network.leak=fast"], "network.leak"),
    ("esn-leak-bool", ["run", "esn", "narma10", "--set", "network.leak=false"], "network.leak"),
    (
        "esn-with-rule",
        ["run", "esn", "narma10", "--set", "rule.kind=local-ei-adaptation"],
        "rule.kind",
    ),
    ("esn-memory", ["run", "esn", "narma10", "--set", f"network.n={BIG}"], "memory"),
    ("esn-mackey-glass-dt", ["run", "esn", "mackey-glass", "--set", "task.dt=1e-12"], "memory"),
    (
        "esn-task-steps-float",
        ["run", "esn", "narma10", "--set", "task.train_steps=5e3"],
        "task.train_steps",
    ),
    ("esn-lorenz-bool-int", ["run", "esn", "lorenz", "--set", "task.repeats=true"], "repeats"),
    (
        "ei-target-inf",
        ["run", "ei-reservoir", "narma10", "--set", "rule.target_rate=inf"],
        "target_rate",
    ),
    (
        "ei-target-dist-nan",
        [
            "run",
            "ei-reservoir",
            "narma10",
            "--set",
            'rule.target_rate={dist="uniform",low=nan,high=0.5}',
        ],
        "target_rate",
    ),
    (
        "ei-learning-rate-list-inf",
        ["run", "ei-reservoir", "narma10", "--set", "rule.learning_rate=[0.01,inf]"],
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
    (
        "ei-memory",
        ["run", "ei-reservoir-global", "memory-capacity", "--set", f"network.n={BIG * 10}"],
        "memory",
    ),
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
    (
        "spiking-dt-above-refractory",
        ["run", "spiking-ei", "rate-homeostasis", "--set", "network.dt_ms=6.0"],
        "refractory_ms",
    ),
    (
        "spiking-reset-above-threshold",
        ["run", "spiking-ei", "rate-homeostasis", "--set", "network.v_reset_mv=-40.0"],
        "v_threshold_mv",
    ),
    (
        "spiking-n-float",
        ["run", "spiking-ei", "rate-homeostasis", "--set", "network.n_exc=4e2"],
        "n_exc",
    ),
    (
        "spiking-rate-inf",
        ["run", "spiking-ei", "rate-homeostasis", "--set", "network.input_rate_hz=inf"],
        "input_rate_hz",
    ),
    (
        "spiking-memory",
        ["run", "spiking-ei", "rate-homeostasis", "--set", f"network.n_exc={BIG}"],
        "memory",
    ),
    (
        "spiking-torch-backend",
        ["run", "spiking-ei", "rate-homeostasis", "--backend", "torch"],
        "engines",
    ),
    ("spiking-out-full", ["run", "spiking-ei", "rate-homeostasis", "--out", "{full}"], "not empty"),
    # ------------------------------------------------------------ spiking reservoir
    (
        "spiking-res-memory",
        ["run", "spiking-reservoir", "narma10", "--set", f"network.n={BIG * 10}"],
        "memory",
    ),
    (
        "spiking-res-degree-nan",
        ["run", "spiking-reservoir", "memory-capacity", "--set", "network.in_degree=nan"],
        "in_degree",
    ),
    (
        "spiking-res-engine",
        ["run", "spiking-reservoir", "narma10", "--set", "network.engine=nest"],
        "network.engine",
    ),
    ("spiking-res-wrong-task", ["run", "spiking-reservoir", "lorenz"], "cannot run task kind"),
    # ------------------------------------------------------------ teacher (curl descent)
    (
        "curl-flipped-hidden-count",
        ["run", "curl-descent", "teacher", "--set", "rule.flipped_hidden=11"],
        "rule.flipped_hidden",
    ),
    (
        "curl-flipped-inputs-index",
        ["run", "curl-descent", "teacher", "--set", "rule.flipped_inputs=[100]"],
        "rule.flipped_inputs",
    ),
    (
        "curl-flipped-bool",
        ["run", "curl-descent", "teacher", "--set", "rule.flipped_hidden=true"],
        "flipped_hidden",
    ),
    ("fa-online", ["run", "feedback-alignment", "teacher-online"], "feedback-alignment"),
    (
        "curl-lr-inf",
        ["run", "curl-descent", "teacher", "--set", "train.learning_rate=inf"],
        "learning_rate",
    ),
    (
        "curl-memory",
        ["run", "curl-descent", "teacher", "--set", "task.n_train=100000000000"],
        "memory",
    ),
    (
        "backprop-epochs-float",
        ["run", "backprop", "teacher", "--set", "train.epochs=1e3"],
        "train.epochs",
    ),
    (
        "curl-online-memory",
        ["run", "curl-descent", "teacher-online", "--set", f"task.n_inputs={BIG}"],
        "memory",
    ),
    # ------------------------------------------------------------ zeroth order
    ("zo-hidden-float", ["run", "spsa", "digits", "--set", "network.hidden=[32.5]"], "hidden"),
    ("zo-hidden-bool", ["run", "spsa", "digits", "--set", "network.hidden=[true]"], "hidden"),
    ("zo-hidden-empty", ["run", "spsa", "digits", "--set", "network.hidden=[]"], "hidden"),
    ("zo-sigma-inf", ["run", "node-perturbation", "digits", "--set", "rule.sigma=inf"], "sigma"),
    ("zo-numpy-backend", ["run", "spsa", "digits", "--backend", "numpy"], "numba"),
    (
        "zo-teacher-erf",
        ["run", "weight-perturbation", "teacher", "--set", "task.teacher_activation=erf"],
        "output_activation",
    ),
    (
        "zo-memory",
        ["run", "evolution-strategies", "digits", "--set", f"network.hidden=[{BIG * 10}]"],
        "memory",
    ),
    (
        "zo-budget-float",
        ["run", "forward-gradient", "digits", "--set", "train.query_budget=5e4"],
        "query_budget",
    ),
    # ------------------------------------------------------------ rnnfit
    (
        "rnn-dt-mismatch",
        ["run", "sparse-rnn", "soc-reaching", "--set", "network.dt_ms=10.0"],
        "dt_ms",
    ),
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
    (
        "rnn-memory",
        ["run", "sparse-rnn", "soc-reaching", "--set", f"network.n_units={BIG}"],
        "memory",
    ),
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
    (
        "rnn-epochs-float",
        ["run", "sparse-rnn", "soc-reaching", "--set", "rule.n_epochs=1e3"],
        "n_epochs",
    ),
    (
        "rnn-recorded-nan",
        ["run", "sparse-rnn", "soc-reaching", "--set", "task.recorded_fraction=nan"],
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
