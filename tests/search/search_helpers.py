"""Shared helpers of the search tests: the scan tests' toy family (cheap, able to fail,
diverge and sleep) and a runner of the real CLI entry point in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCAN_TESTS = HERE.parent / "scan"
ROOT = HERE.parents[1]
if str(SCAN_TESTS) not in sys.path:  # worker processes inherit sys.path and import the toy
    sys.path.insert(0, str(SCAN_TESTS))

import scan_toy_family  # noqa: E402,F401  (registers the toy kinds)

TOY_MODEL = str(SCAN_TESTS / "toy_model.toml")
TOY_TASK = str(SCAN_TESTS / "toy_task.toml")

#: the CLI's main() in a new process, with the toy family registered first
_ENTRY = (
    "import sys; sys.path.insert(0, {scan!r}); import scan_toy_family; "
    "from neurolearn.cli import main; sys.exit(main(sys.argv[1:]))"
)


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-c", _ENTRY.format(scan=str(SCAN_TESTS)), *args]


def cli_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.setdefault("MPLBACKEND", "Agg")
    return env


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        cli_command(*args), env=cli_env(), capture_output=True, text=True, timeout=timeout
    )


def trials_of(db: Path, name: str):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=f"sqlite:///{db}").get_trials()
