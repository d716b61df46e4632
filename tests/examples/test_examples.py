"""Every script in examples/ runs to the end on its quick setting."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUICK_ARGS = {
    "curl_phase_diagram.py": ["--quick"],
    "curl_speedup.py": ["--quick", "--sizes", "100", "--seeds", "2"],
}
SCRIPTS = sorted(p.name for p in (ROOT / "examples").glob("*.py"))


def test_every_example_has_a_quick_setting():
    assert set(SCRIPTS) <= set(QUICK_ARGS), set(SCRIPTS) - set(QUICK_ARGS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script, tmp_path):
    args = list(QUICK_ARGS[script])
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
