"""``neurolearn search`` end to end: a killed search resumes with no trial lost or repeated,
and the best spec it writes runs with ``neurolearn run`` and gives the best trial's value."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time

import numpy as np
import pytest
from search_helpers import TOY_MODEL, TOY_TASK, cli_command, cli_env, run_cli, trials_of

import neurolearn as nl
from neurolearn._search.objective import run_seed_sequence

NARMA = ["--set", "network.n=30", "--set", "task.train_steps=400", "--set", "task.test_steps=150"]


def _finished(db) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as con:
            (n,) = con.execute(
                "select count(*) from trials where state in ('COMPLETE', 'PRUNED')"
            ).fetchone()
            # a running trial its worker signed and gave parameters to
            (running,) = con.execute(
                "select count(distinct t.trial_id) from trials t "
                "join trial_user_attributes u on u.trial_id = t.trial_id "
                "join trial_params p on p.trial_id = t.trial_id "
                "where t.state = 'RUNNING' and u.key = 'worker'"
            ).fetchone()
        return n, running
    except sqlite3.OperationalError:  # not created yet
        return 0, 0


def test_search_resumes_after_sigkill(tmp_path):
    db = tmp_path / "study.db"
    args = [
        "search", TOY_MODEL, TOY_TASK, "--space", "network.a=lin:0:2", "--space",
        "network.b=log:0.5:4", "--set", "network.sleep_s=0.15", "--metric", "score",
        "--direction", "minimize", "--trials", "10", "--seeds", "2", "--out", str(db),
        "--scheduler", "synchronous", "--no-progress", "--no-figures", "--study-name", "kill",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cli_command(*args), env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    try:
        while True:  # kill it mid-trial once a few trials are finished
            finished, running = _finished(db)
            if finished >= 3 and running == 1:
                break
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the search did not get going"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = trials_of(db, "kill")
    killed = [t for t in before if t.state.name == "RUNNING"]
    assert len(killed) == 1
    done_before = {t.number: t.params for t in before if t.state.name in ("COMPLETE", "PRUNED")}
    assert 3 <= len(done_before) < 10

    again = run_cli(*args)  # the same command again
    assert again.returncode == 0, again.stderr
    assert "1 interrupted and run again" in again.stdout
    after = trials_of(db, "kill")
    failed = [t for t in after if t.state.name == "FAIL"]
    interrupted = [t for t in failed if "message" not in t.user_attrs]
    counted = [t for t in after if t.state.name in ("COMPLETE", "PRUNED")] + [
        t for t in failed if "message" in t.user_attrs
    ]
    assert len(counted) == 10  # the budget counts finished trials, none lost
    assert [t.number for t in interrupted] == [killed[0].number]
    retry = [t for t in counted if t.user_attrs.get("retry_of") == killed[0].number]
    assert len(retry) == 1 and retry[0].params == killed[0].params
    # finished trials were kept as they were, and no parameters ran twice
    assert {t.number: t.params for t in after if t.number in done_before} == done_before
    keys = [tuple(sorted(t.params.items())) for t in counted]
    assert len(set(keys)) == len(keys)


def test_best_toml_runs_with_neurolearn_run(tmp_path):
    db = tmp_path / "study.db"
    result = run_cli(
        "search", "esn", "narma10", "--space", "network.spectral_radius=log:0.1:2",
        "--space", "readout.ridge=log:1e-9:1e-2", "--trials", "4", "--seeds", "2",
        "--seed", "5", "--out", str(db), "--scheduler", "synchronous", "--no-progress", *NARMA,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("search: 4 trials (")
    assert lines[1].startswith("best nrmse ") and "(minimize)" in lines[1]
    for name in ("study.best.toml", "study.best-task.toml", "study.history.png"):
        assert (tmp_path / name).is_file()
        assert name in lines[2]
    assert (tmp_path / "study.importance.png").is_file()

    run = run_cli(
        "run", str(tmp_path / "study.best.toml"), str(tmp_path / "study.best-task.toml"),
        "--json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    # the same specs with the search's seeds give the best trial's value exactly
    best = min(
        (t for t in trials_of(db, "esn-on-narma10") if t.state.name == "COMPLETE"),
        key=lambda t: t.value,
    )
    values = [
        float(
            nl.run(
                tmp_path / "study.best.toml",
                tmp_path / "study.best-task.toml",
                seed=run_seed_sequence(5, k),
            )["nrmse"]
        )
        for k in range(2)
    ]
    assert np.mean(values) == pytest.approx(best.value, rel=0, abs=0)
    assert f"best nrmse {best.value:.6g}" in lines[1]
