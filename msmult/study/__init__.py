"""``msmult tables`` and ``msmult plots``: study tables and figures over finished runs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from msmult.errors import MsmultError
from msmult.progress import console as notes
from msmult.study.collect import KEYS, collect, repeated_seeds
from msmult.study.figures import write_figures
from msmult.study.tables import write_tables

DESCRIPTIONS = {
    "tables": "Collect every finished run (report.json with a valid completion marker) under "
    "PATH... into study tables (CSV, Markdown, LaTeX: mean ± std across seeds per dataset, attack, "
    "API setting and budget) and study figures (PNG).",
    "plots": "Only the study figures of `msmult tables` (PNG).",
}


def parser(command: str) -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog=f"msmult {command}", description=DESCRIPTIONS[command])
    parse.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="run dirs, sweep dirs or any folder above them",
    )
    parse.add_argument("--out", type=Path, help="output folder (default: <first PATH>/study)")
    if command == "tables":
        parse.add_argument(
            "--by-epsilon",
            action="store_true",
            help="also a table with one row per epsilon of the runs' epsilon curves",
        )
    return parse


def write(command: str, options: argparse.Namespace, out: Path) -> list[tuple[Path, str]]:
    """Collect the runs, write the command's files, say what was skipped; return (file, what)."""
    study = collect(options.paths)
    if study.incomplete:
        notes.print(
            f"skipped {len(study.incomplete)} incomplete run(s) (no valid completion marker), "
            f"e.g. {study.incomplete[0]}"
        )
    mixed = repeated_seeds(study.runs)
    if len(mixed):
        notes.print(
            f"warning: {len(mixed)} study row(s) hold several runs with the same seed (they "
            f"differ in a setting other than {', '.join(KEYS)}), e.g. {mixed.index[0]}; "
            "their mean ± std mixes those settings."
        )
    written = []
    if command == "tables":  # runs.csv names each run relative to the folders given
        base = Path(os.path.commonpath([path.resolve() for path in options.paths]))
        written = write_tables(study.runs, out, options.by_epsilon, base)
    return written + write_figures(study.runs, out)


def main(command: str, args: list[str]) -> None:
    """Entry point for ``msmult tables|plots ARGS``; bad input: one message on stderr, exit 1."""
    options = parser(command).parse_args(args)
    out = options.out or options.paths[0] / "study"
    try:
        written = write(command, options, out)
    except MsmultError as error:
        print(f"msmult {command}: {error}", file=sys.stderr)
        sys.exit(1)
    table = Table(title=f"msmult {command}: {len(written)} files in {out}")
    table.add_column("file", no_wrap=True)
    table.add_column("contents")
    for path, what in written:
        table.add_row(str(path.relative_to(out)), what)
    Console().print(table)
