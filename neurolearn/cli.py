"""The ``neurolearn`` command line: a thin layer over the public API.

Exit status: 0 on success, 2 on bad input (one message on stderr naming the key, the value and
what was expected), 1 on a failure while running (status ``diverged`` or ``failed``).
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _short_message(message: str, limit: int = 40) -> str:
    """One line, with every quoted value longer than ``limit`` characters cut to ``limit`` + ..."""
    import re

    message = " ".join(str(message).split())
    return re.sub(rf"'([^']{{{limit}}})[^']+'", lambda m: f"'{m.group(1)}...'", message)


class _Parser(argparse.ArgumentParser):
    """``argparse`` with errors as two lines on stderr: a one-line usage and the error."""

    def error(self, message):
        positional = [
            a.metavar or a.dest.upper()
            for a in self._actions
            if not a.option_strings and a.dest != argparse.SUPPRESS
        ]
        usage = " ".join([f"usage: {self.prog}", *map(str, positional), "[options]"])
        self.exit(
            EXIT_BAD_INPUT,
            f"{usage}  (see {self.prog} -h)\n{self.prog}: error: {_short_message(message)}\n",
        )


def _one_line(exc) -> str:
    """An exception's message on one line (at most 2000 characters)."""
    from neurolearn._params import short_text

    return short_text(" ".join(str(exc).split()), 2000)


def _parser() -> argparse.ArgumentParser:
    from neurolearn._version import __version__

    parser = _Parser(
        prog="neurolearn",
        description="Simulate brain-inspired learning: reservoirs with adaptive E/I balance, "
        "curl descent, zeroth-order rules, RNNs fit to sparse recordings.",
    )
    parser.add_argument("--version", action="version", version=f"neurolearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("list", help="models and tasks available, one line each")

    run = sub.add_parser("run", help="run one model on one task")
    run.add_argument("model", help="model name (see `neurolearn list`) or path to a TOML file")
    run.add_argument("task", help="task name or path to a TOML file")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec key, e.g. --set network.n=1000 (repeatable)",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--backend", choices=("numba", "torch", "numpy"), default=None)
    run.add_argument("--device", default=None, help="cpu (default), cuda or cuda:N (torch)")
    run.add_argument("--out", default=None, help="folder for result.nc and figure.png")
    run.add_argument("--json", action="store_true", help="print metrics as one JSON object")
    run.add_argument("--progress", action="store_true", help="show progress bars")

    _add_scan_parser(sub)
    _add_search_parser(sub)

    rerun = sub.add_parser(
        "rerun",
        help="run a result file (or a scan-store point) again from its spec and seed and "
        "check that every number matches",
    )
    rerun.add_argument("result", metavar="RESULT", help="a result.nc, or a scan store with --point")
    rerun.add_argument(
        "--point",
        default=None,
        help="for a scan store: the point's flat index i, or KEY=VALUE,...,seed=K",
    )
    rerun.add_argument("--out", default=None, help="folder for the new result.nc and figure.png")
    rerun.add_argument("--backend", choices=("numba", "torch", "numpy"), default=None)
    rerun.add_argument("--device", default=None, help="default: where the result was computed")

    demo = sub.add_parser(
        "demo", help="the flagship demo: local E/I balance adaptation in three comparisons"
    )
    demo.add_argument("--out", default="demo-output", help="folder for the figure and table")
    demo.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    demo.add_argument("--n", type=int, default=300, help="reservoir size (default 300)")
    demo.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    return parser


def _add_scan_parser(sub) -> None:
    scan = sub.add_parser(
        "scan", help="scan spec keys over a grid and seeds into a resumable Zarr store"
    )
    scan.add_argument("model", help="model name (see `neurolearn list`) or path to a TOML file")
    scan.add_argument("task", help="task name or path to a TOML file")
    scan.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=VALUES",
        required=True,
        help="grid over a spec key: v1,v2,... or START:STOP:NUM or log:START:STOP:NUM "
        "(repeatable; one store dimension per key)",
    )
    scan.add_argument("--seeds", type=int, default=1, help="seeds per grid point (default 1)")
    scan.add_argument("--seed", type=int, default=0, help="root seed of the scan (default 0)")
    scan.add_argument("--out", required=True, help="the Zarr store to write (a folder)")
    scan.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec key at every point (repeatable)",
    )
    where = scan.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes of the embedded Dask cluster (default: one per core)",
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running Dask scheduler (tcp://host:8786), "
        "or 'synchronous' to run in this process",
    )
    where.add_argument(
        "--slurm",
        default=None,
        metavar="CONFIG",
        help="run on Slurm through dask-jobqueue (a TOML config file)",
    )
    scan.add_argument(
        "--resume",
        action="store_true",
        help="finish an existing store: verify its finished points, then compute the "
        "missing, failed and damaged ones",
    )
    scan.add_argument(
        "--batch-size",
        type=_batch_size,
        default=None,
        metavar="N",
        help="points per task for a model that runs points in batches (spiking-ei): the "
        "points of a batch share their task spec and run together in one call; every stored "
        "number is the same as with 1 (one point per task). Default: chosen from the "
        "model's memory estimate and the memory per worker, at most 32. Other models accept "
        "it and run one point per task",
    )
    scan.add_argument("--backend", choices=("numba", "torch", "numpy"), default=None)
    scan.add_argument("--device", default=None, help="cpu (default), cuda or cuda:N (torch)")
    scan.add_argument("--no-progress", action="store_true", help="no progress bar")


def _batch_size(text: str) -> int:
    """``--batch-size``: a whole number >= 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a whole number >= 1 (1 runs one point per task). Got {text!r} instead."
        )
    return value


def _add_search_parser(sub) -> None:
    search = sub.add_parser(
        "search", help="search spec keys with TPE into a resumable Optuna study"
    )
    search.add_argument("model", help="model name (see `neurolearn list`) or path to a TOML file")
    search.add_argument("task", help="task name or path to a TOML file")
    search.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="KEY=SPEC",
        help="a searched spec key: log:LO:HI, lin:LO:HI, int:LO:HI or a comma list "
        "of choices (repeatable)",
    )
    search.add_argument("--trials", type=int, required=True, help="finished trials in all")
    search.add_argument(
        "--out",
        required=True,
        help="the study: a SQLite file (study.db) or a database URL; an existing study resumes",
    )
    search.add_argument("--seeds", type=int, default=3, help="runs per trial (default 3)")
    search.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    search.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec key in every trial (repeatable)",
    )
    search.add_argument("--metric", default=None, help="metric to optimise (default: the task's)")
    search.add_argument(
        "--direction",
        choices=("auto", "minimize", "maximize"),
        default="auto",
        help="auto: minimise an error, maximise a capacity or accuracy",
    )
    search.add_argument("--study-name", default=None, help="default: MODEL-on-TASK")
    search.add_argument(
        "--best", default=None, help="best model spec file (default: beside the study)"
    )
    search.add_argument("--no-prune", action="store_true", help="run every seed of every trial")
    where = search.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes of the embedded Dask cluster (default: one per core)",
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running Dask scheduler, or 'synchronous' to run in this process",
    )
    search.add_argument("--backend", choices=("numba", "torch", "numpy"), default=None)
    search.add_argument("--device", default=None, help="cpu (default), cuda or cuda:N (torch)")
    search.add_argument("--no-figures", action="store_true", help="no history/importance PNGs")
    search.add_argument("--no-progress", action="store_true", help="no progress bar")


def _cmd_search(args) -> int:
    from neurolearn.search import format_result, search

    result = search(
        args.model,
        args.task,
        space=args.space,
        trials=args.trials,
        out=args.out,
        seeds=args.seeds,
        seed=args.seed,
        overrides=args.overrides,
        metric=args.metric,
        direction=args.direction,
        study_name=args.study_name,
        best=args.best,
        prune=not args.no_prune,
        workers=args.workers,
        scheduler=args.scheduler,
        backend=args.backend,
        device=args.device,
        figures=not args.no_figures,
        progress=not args.no_progress,
    )
    print(format_result(result, args.out))
    if result.files:
        print("wrote " + ", ".join(str(f) for f in result.files))
    if result.best_value is None:
        print("neurolearn: no trial completed; see the trials' messages.", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _cmd_scan(args) -> int:
    from neurolearn.scan import format_summary, scan, summarize

    ds = scan(
        args.model,
        args.task,
        grid=args.grid,
        out=args.out,
        seeds=args.seeds,
        seed=args.seed,
        overrides=args.overrides,
        resume=args.resume,
        workers=args.workers,
        scheduler=args.scheduler,
        slurm=args.slurm,
        backend=args.backend,
        device=args.device,
        progress=not args.no_progress,
        batch_size=args.batch_size,
    )
    print(format_summary(ds, wall_s=ds.attrs["scan_wall_s"]))
    print(f"wrote {args.out}")
    if summarize(ds)["failed"]:
        print("neurolearn: some points failed; `--resume` computes them again.", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _metrics_of(ds) -> dict:
    return {name: float(var.values) for name, var in ds.data_vars.items() if var.ndim == 0}


def _print_table(ds, stream) -> None:
    metrics = _metrics_of(ds)
    width = max([len(k) for k in metrics] + [6])
    print(
        f"{ds.attrs['model']} on {ds.attrs['task']} (seed {ds.attrs['seed']}, "
        f"{ds.attrs['backend']}/{ds.attrs['device']})",
        file=stream,
    )
    print(f"{'metric':<{width}}  value", file=stream)
    print(f"{'-' * width}  ----------", file=stream)
    for name, value in metrics.items():
        print(f"{name:<{width}}  {value:.6g}", file=stream)
    print(f"{'status':<{width}}  {ds.attrs['status']}", file=stream)
    print(f"{'wall_s':<{width}}  {ds.attrs['wall_s']:.3g}", file=stream)


def _cmd_list(args) -> int:
    from neurolearn.specs import list_specs

    specs = list_specs()
    for kind in ("models", "tasks"):
        print(f"{kind}:")
        width = max([len(n) for n in specs[kind]] + [4])
        for name, description in specs[kind].items():
            print(f"  {name:<{width}}  {description}")
    return EXIT_OK


def _cmd_run(args) -> int:
    from neurolearn.experiment import run

    ds = run(
        args.model,
        args.task,
        seed=args.seed,
        overrides=args.overrides,
        backend=args.backend,
        device=args.device,
        out=args.out,
        progress=args.progress,
    )
    if args.json:
        payload = dict(_metrics_of(ds))
        payload.update(
            status=ds.attrs["status"],
            wall_s=ds.attrs["wall_s"],
            seed=ds.attrs["seed"],
            backend=ds.attrs["backend"],
            device=ds.attrs["device"],
        )
        if ds.attrs["status"] != "ok":
            payload["message"] = ds.attrs["message"]
        print(json.dumps(payload))
    else:
        _print_table(ds, sys.stdout)
        if args.out:
            print(f"wrote {args.out}/result.nc and {args.out}/figure.png")
    if ds.attrs["status"] != "ok":
        print(f"neurolearn: run {ds.attrs['status']}: {ds.attrs['message']}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _cmd_rerun(args) -> int:
    from neurolearn.experiment import reproduce

    check = reproduce(
        args.result, point=args.point, out=args.out, backend=args.backend, device=args.device
    )
    n = check.compared
    if check.identical:
        print(
            f"identical: {check.label}: all {n} data variable{'s' if n != 1 else ''} and the "
            "attributes match (timings ignored)"
        )
    else:
        print(f"differs: {check.label}: {check.difference}")
    if args.out:
        print(f"wrote {args.out}/result.nc")
    return EXIT_OK if check.identical else EXIT_FAILED


def _cmd_demo(args) -> int:
    from neurolearn.studies.reservoir_demo import run_demo

    run_demo(out=args.out, seeds=args.seeds, n=args.n, quick=args.quick)
    return EXIT_OK


def main(argv=None) -> int:
    """Entry point of the ``neurolearn`` command; returns the exit status."""
    import warnings

    from neurolearn.errors import (
        MissingDependencyError,
        NeurolearnWarning,
        ParameterError,
        ParameterTypeError,
    )

    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # -h, --version (0) and usage errors (2) end here
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    commands = {
        "list": _cmd_list,
        "run": _cmd_run,
        "scan": _cmd_scan,
        "search": _cmd_search,
        "rerun": _cmd_rerun,
        "demo": _cmd_demo,
    }
    try:
        with warnings.catch_warnings():
            # the CLI reports status itself; the Python-level warning would say it twice
            warnings.filterwarnings("ignore", category=NeurolearnWarning, message="run of ")
            return commands[args.command](args)
    except (ParameterError, ParameterTypeError, MissingDependencyError, ValueError) as exc:
        print(f"neurolearn: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("neurolearn: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"neurolearn: failed: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
