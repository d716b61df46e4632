"""Slurm through dask-jobqueue: config validation and the job script, without Slurm."""

from __future__ import annotations

import pytest
from needs import require
from scan_helpers import TOY_MODEL, TOY_TASK

from neurolearn._scan.slurm import read_slurm_config, slurm_cluster
from neurolearn.cli import main
from neurolearn.errors import SpecError

CONFIG = """
[slurm]
jobs = 3
cores = 4
memory = "8GB"
walltime = "00:30:00"
queue = "compute"
account = "lab42"
job_extra_directives = ["--constraint=avx2"]
job_script_prologue = ["module load python"]
"""


def test_job_script_pins_threads_and_uses_config(tmp_path):
    require("dask_jobqueue", "slurm")
    path = tmp_path / "slurm.toml"
    path.write_text(CONFIG)
    cluster, jobs = slurm_cluster(path)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert jobs == 3
    for line in (
        "#SBATCH -p compute",
        "#SBATCH -A lab42",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH -t 00:30:00",
        "#SBATCH --constraint=avx2",
        "#SBATCH -J neurolearn-scan",
        "export NUMBA_NUM_THREADS=1",
        "export OPENBLAS_NUM_THREADS=1",
        "module load python",
    ):
        assert line in script, line
    # four single-threaded worker processes per job
    assert "--nworkers 4" in script and "--nthreads 1" in script
    assert script.index("export NUMBA_NUM_THREADS=1") < script.index("distributed.cli")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[slurm]\njobz = 2\n", "slurm.jobz: unknown key. Did you mean 'jobs'"),
        ("[slurm]\njobs = 0\n", r"slurm.jobs: must be an int >= 1. Got 0"),
        ("[slurm]\nmemory = 4\n", "slurm.memory: must be a non-empty string"),
        ("[slurm]\njob_extra_directives = '--x'\n", "must be a list of strings"),
        ("[cluster]\njobs = 2\n", r"expected a single \[slurm\] table"),
        ("[slurm\n", "not valid TOML"),
    ],
)
def test_bad_config(tmp_path, text, match):
    path = tmp_path / "slurm.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=match):
        read_slurm_config(path)


def test_cli_bad_slurm_config_exits_2_and_writes_nothing(tmp_path, capsys):
    path, out = tmp_path / "slurm.toml", tmp_path / "s.zarr"
    path.write_text("[slurm]\ncores = -1\n")
    code = main(
        [
            "scan",
            TOY_MODEL,
            TOY_TASK,
            "--grid",
            "network.a=1,2",
            "--out",
            str(out),
            "--slurm",
            str(path),
        ]
    )
    assert code == 2
    assert "slurm.cores: must be an int >= 1" in capsys.readouterr().err
    assert not out.exists()
    assert (
        main(
            [
                "scan",
                TOY_MODEL,
                TOY_TASK,
                "--grid",
                "network.a=1",
                "--out",
                str(out),
                "--slurm",
                str(tmp_path / "nope.toml"),
            ]
        )
        == 2
    )
    assert not out.exists()
