"""Side-by-side speed against peers: ``python benchmarks/run.py [NAME ...] [--quick]``.

Each ``benchmarks/bench_NAME.py`` defines ``run(quick: bool) -> list[dict]``: one row per case,
with at least ``case``, ``ours_s``, ``peer``, ``peer_s`` and ``ratio`` (peer time / our time,
so > 1 means neurolearn is faster), plus any extra columns; or a dict ``{"rows": [...],
"extra": {...}}`` with further measurements. The runner prints one table per benchmark and
writes ``benchmarks/results/NAME.json`` with the rows, the extras and the machine it ran on.
``--markdown`` prints the README tables of benchmarks that define ``markdown(payload)`` from
their JSON, without running anything.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> dict:
    """What the numbers were measured on."""
    import numpy as np

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
    }
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def available() -> list[str]:
    return sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))


def _load(name: str):
    path = HERE / f"bench_{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def print_table(name: str, rows: list[dict]) -> None:
    if not rows:
        print(f"{name}: no rows")
        return
    cols = list(dict.fromkeys(k for row in rows for k in row))

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    widths = {c: max(len(c), *(len(fmt(r.get(c, ""))) for r in rows)) for c in cols}
    print(f"\n== {name} ==")
    print("  ".join(c.ljust(widths[c]) for c in cols))
    print("  ".join("-" * widths[c] for c in cols))
    for r in rows:
        print("  ".join(fmt(r.get(c, "")).ljust(widths[c]) for c in cols))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {available()})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument(
        "--markdown", action="store_true", help="print README tables from the saved JSON"
    )
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available()}", file=sys.stderr)
        return 2
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    suffix = "-quick" if args.quick else ""
    if args.markdown:
        for name in names:
            module = _load(name)
            path = out_dir / f"{name}{suffix}.json"
            if hasattr(module, "markdown") and path.exists():
                print(module.markdown(json.loads(path.read_text())))
        return 0
    for name in names:
        start = time.perf_counter()
        result = _load(name).run(quick=args.quick)
        rows, extra = (
            (result["rows"], result["extra"]) if isinstance(result, dict) else (result, {})
        )
        print_table(name, rows)
        payload = {
            "benchmark": name,
            "quick": args.quick,
            "machine": machine(),
            "total_s": time.perf_counter() - start,
            "rows": rows,
        }
        if extra:
            payload["extra"] = extra
        (out_dir / f"{name}{suffix}.json").write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
