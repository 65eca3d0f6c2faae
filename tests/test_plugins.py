"""The README's "Extending msmult" examples, run as written from a folder outside the repository
through the real CLI: a plugin explorer, attack and defence."""

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, read_report, run_cli

pytestmark = pytest.mark.e2e


def readme_examples() -> tuple[dict[str, str], list[str]]:
    """Files (``# file: NAME`` blocks, appended in order) and commands of the README section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Extending msmult", 1)[1].split("\n## ", 1)[0]
    files: dict[str, str] = {}
    commands: list[str] = []
    for language, body in re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S):
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            name = first.removeprefix("# file: ").strip()
            files[name] = files.get(name, "") + rest + "\n"
        elif language == "bash":
            commands += [line for line in body.splitlines() if line.startswith("msmult run")]
    return files, commands


@pytest.fixture(scope="module")
def plugin_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plugins")
    files, _ = readme_examples()
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run_example(command: str, folder: Path, name: str):
    run_dir = folder / name
    args = command.split()[1:] + [
        "debug=fast",
        "victim.epochs=2",
        "budget=500",
        f"hydra.run.dir={run_dir}",
    ]
    process = run_cli(*args, cwd=folder, cache=folder / "cache")
    assert process.returncode == 0, process.stderr[-3000:]
    return read_report(run_dir), run_dir


def test_the_readme_shows_three_plugins():
    files, commands = readme_examples()
    assert set(files) == {
        "myplugins.py",
        "myconf/rashomon/seeds.yaml",
        "myconf/attack/uncertainty.yaml",
        "myconf/api/smoothed.yaml",
    }
    assert len(commands) == 3


def test_plugin_explorer(plugin_folder):
    report, run_dir = run_example(readme_examples()[1][0], plugin_folder, "explorer")
    assert report["rashomon"]["explorer"] == "seeds"
    table = pd.read_csv(run_dir / "surrogates.csv")
    assert table["kind"].tolist() == ["base", "reseeded", "reseeded", "reseeded"]
    assert table["loss"].nunique() == 4  # four distinct fitted models


def test_plugin_attack(plugin_folder):
    report, _ = run_example(readme_examples()[1][1], plugin_folder, "attack")
    attack = report["attack"]
    assert attack["name"] == "uncertainty"
    assert attack["holdout"] == "separate uniform pool draw"
    assert attack["queries_used"] == 500 == attack["fit_rows"] + attack["holdout_rows"]
    assert attack["holdout_rows"] == 100


def test_plugin_defence(plugin_folder):
    report, _ = run_example(readme_examples()[1][2], plugin_folder, "defence")
    assert report["api"]["choice"] == "smoothed"
    assert report["api"]["defences"] == [{"name": "Smoothing", "share": 0.3}]


BROKEN = """
import numpy as np
import pandas as pd

from msmult.rashomon import Exploration


class WrongShapes:
    def explore(self, task):
        scores = {name: np.full((1, 3, 2), 0.5) for name in task.eval_sets}
        return Exploration(pd.DataFrame({"kind": ["base"]}), np.zeros(1), scores, task.epsilon)


def nan_defence(proba, rng):
    return proba * np.nan
"""


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["rashomon._target_=nosuch.Explorer"], "Cannot build 'nosuch.Explorer'"),
        (
            ["hydra.searchpath=[file://conf]", "rashomon=wrong"],
            "explorer WrongShapes returned scores['test'] of shape (1, 3, 2)",
        ),
        (
            ["+api.defences=[{_target_: hydra.utils.get_method, path: broken.nan_defence}]"],
            "API defence nan_defence returned NaN",
        ),
    ],
)
def test_broken_plugins_are_named_in_one_paragraph(tmp_path, overrides, message):
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "conf" / "rashomon").mkdir(parents=True)
    (tmp_path / "conf" / "rashomon" / "wrong.yaml").write_text("_target_: broken.WrongShapes\n")
    run_dir = tmp_path / "run"
    process = run_cli(
        "run",
        "debug=fast",
        "victim.epochs=2",
        "budget=300",
        *overrides,
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert message in output, output[-2000:]
    assert "Traceback" not in output
    assert not (run_dir / "report.json").exists()
