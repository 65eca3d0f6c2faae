"""``msmult`` command line: ``run`` (a Hydra app), ``serve`` (a victim over HTTP), ``tables`` and
``plots`` over finished runs."""

from __future__ import annotations

import os
import sys
from importlib.metadata import version

USAGE = """usage: msmult <command> [arguments]

Measure what a model-stealing attacker gets: steal a victim through its prediction API, explore
the Rashomon set of surrogates, report predictive multiplicity and group fairness.

commands:
  run [overrides...]   run one pipeline (Hydra app): msmult run dataset=adult attack=knockoff
                       -m/--multirun sweeps, --cfg job shows the config, --help lists config groups
  serve [RUN_DIR] [overrides...]
                       serve a victim msmult trained over HTTP (Open Inference Protocol v2 and
                       MLflow /invocations), taking raw rows; needs pip install 'msmult[serve]'
  tables PATH...       collect every report.json under PATH into study tables and figures
  plots PATH...        only the figures of `tables`

`msmult <command> --help` shows the options of one command; `msmult --version` the version."""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return
    if args[0] in ("-V", "--version"):
        print(f"msmult {version('msmult')}")
        return
    command, rest = args[0], args[1:]
    if command == "run":
        from msmult.app import run_app

        # plugins: modules in the folder msmult runs in can be named in `_target_`, as with
        # `python -m msmult`
        sys.path.insert(0, os.getcwd())
        sys.argv = ["msmult run", *rest]
        run_app()
    elif command == "serve":
        from msmult.serve.command import main as serve_main

        serve_main(rest)
    elif command in ("tables", "plots"):
        from msmult.study import main as study_main

        study_main(command, rest)
    else:
        print(
            f"msmult: unknown command {command!r}; allowed: run, serve, tables, plots.\n",
            file=sys.stderr,
        )
        print(USAGE, file=sys.stderr)
        sys.exit(2)
