"""README tables from the benchmark results: ``python benchmarks/tables.py NAME ... [--write]``.

Prints, for each ``benchmarks/results/NAME.json``, a markdown table of its rows (case, peer,
our time, the peer's time, ratio = peer / ours); with ``--write`` the table replaces the block
between ``<!-- benchmark-table NAME -->`` and ``<!-- end benchmark-table -->`` in README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"


def _seconds(value: float) -> str:
    return f"{value:.3g}"


def markdown(payload: dict) -> str:
    """The markdown table of one results file (``peer_measured: false`` marks a quoted peer)."""
    lines = [
        "| case | compared with | ours (s) | theirs (s) | ratio |",
        "|---|---|---|---|---|",
    ]
    for row in payload["rows"]:
        peer = row["peer"]
        if row.get("peer_measured") is False and "quoted" not in peer:
            peer += " (not measured)"
        lines.append(
            f"| {row['case']} | {peer} | {_seconds(row['ours_s'])} | "
            f"{_seconds(row['peer_s'])} | {row['ratio']:.2f}x |"
        )
    machine = payload.get("machine", {})
    lines.append("")
    lines.append(
        f"<sub>From `benchmarks/results/{payload['benchmark']}.json` "
        f"({machine.get('cpu', machine.get('processor', '?'))}, {machine.get('cpu_count', '?')} "
        f"cores, numpy {machine.get('numpy', '?')}); ratio = their time / ours.</sub>"
    )
    return "\n".join(lines)


def replace_block(text: str, name: str, table: str) -> str:
    pattern = re.compile(
        rf"(<!-- benchmark-table {re.escape(name)} -->\n).*?(<!-- end benchmark-table -->)",
        re.S,
    )
    if not pattern.search(text):
        raise SystemExit(f"README.md has no '<!-- benchmark-table {name} -->' block")
    return pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    text = README.read_text()
    for name in args.names:
        path = HERE / "results" / f"{name}.json"
        if not path.exists():
            print(f"no results for {name}: run benchmarks/run.py {name}", file=sys.stderr)
            return 2
        table = markdown(json.loads(path.read_text()))
        print(f"== {name} ==\n{table}\n")
        text = replace_block(text, name, table)
    if args.write:
        README.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
