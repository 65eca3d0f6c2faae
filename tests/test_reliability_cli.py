"""Issue 10 through the real CLI: changed data retrains the cached victim, the README's CSV
example runs, outputs are readable by others, the run says where its outputs went, a failed run's
log ends with the error, and piped stderr has no blank lines."""

import os
import re
import shlex

import numpy as np
import pytest

from tests.conftest import FAST, ROOT, read_report, run_cli

pytestmark = pytest.mark.e2e


def write_csv(path, rows: int = 600, flip: bool = False) -> None:
    """Two numeric features and a category; label = sign of a linear score (``flip`` swaps the
    labels); one missing target, two missing features, one missing group."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    positive = (x1 + 0.5 * x2 > 0) != flip
    lines = ["x1,x2,colour,group,label"]
    for i in range(rows):
        a = "" if i in (3, 4) else f"{x1[i]:.4f}"
        group = "" if i == 5 else "ab"[i % 2]
        label = "" if i == 6 else ("yes" if positive[i] else "no")
        lines.append(f"{a},{x2[i]:.4f},{'rgb'[i % 3]},{group},{label}")
    path.write_text("\n".join(lines) + "\n")


def readme_csv_command(path) -> list[str]:
    """The README's CSV example, pointed at ``path``: its arguments after ``msmult``."""
    line = next(
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("msmult run dataset=csv")
    )
    assert re.search(r"\bbudget=\d+", line), "the README's CSV example must set a budget"
    return [arg.replace("my.csv", str(path)) for arg in shlex.split(line)[1:]]


def test_csv_edited_in_place_retrains_the_victim(tmp_path):
    data, cache = tmp_path / "my.csv", tmp_path / "cache"
    command = [*readme_csv_command(data), *FAST, "victim.epochs=20"]

    def run(name: str) -> dict:
        process = run_cli(*command, f"hydra.run.dir={tmp_path / name}", cwd=tmp_path, cache=cache)
        assert process.returncode == 0, process.stderr[-3000:]
        return read_report(tmp_path / name)

    write_csv(data)
    first = run("first")
    assert first["victim"]["cache"] == "miss" and first["victim"]["accuracy"] > 0.75
    assert first["dataset"]["missing"]["target_rows_dropped"] == 1
    missing = first["dataset"]["missing"]
    assert sum(missing["feature_values_imputed"].values()) == 2
    assert sum(missing["sensitive_unknown_rows"].values()) == 1
    write_csv(data, flip=True)  # same path, same config, opposite labels
    flipped = run("flipped")
    assert flipped["victim"]["cache"] == "miss"  # a stale hit would score about 1 - 0.85
    assert flipped["victim"]["accuracy"] > 0.75
    assert run("again")["victim"]["cache"] == "hit"


@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_run_reports_its_folder_writes_readable_files_and_no_blank_stderr(tmp_path, umask_022):
    run_dir = tmp_path / "run"
    process = run_cli(
        "run",
        *FAST,
        "victim.epochs=1",
        "dataset=german",
        "budget=100",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.strip().splitlines()[-1] == f"outputs: {run_dir}"
    assert "" not in process.stderr.splitlines()  # stderr is a pipe here: no progress bars
    for name in (
        "report.json",
        "report.md",
        "config.yaml",
        "predictions.parquet",
        "surrogates.csv",
        "epsilon_curve.png",
        ".msmult-complete.json",
    ):
        assert (run_dir / name).stat().st_mode & 0o777 == 0o644, name
    entries = list((tmp_path / "cache" / "victims").glob("*/*"))
    assert entries and all(e.stat().st_mode & 0o777 == 0o644 for e in entries)


def test_a_failed_run_log_ends_with_the_error(tmp_path):
    run_dir = tmp_path / "run"
    process = run_cli(
        "run", *FAST, "dataset=german", "budget=5000", f"hydra.run.dir={run_dir}", cwd=tmp_path
    )
    assert process.returncode != 0 and "Traceback" not in process.stderr
    last = (run_dir / "msmult.log").read_text().strip().splitlines()[-1]
    assert "ERROR" in last and "budget=5000" in last
    assert "budget=5000" in process.stderr and not (run_dir / "report.json").exists()
