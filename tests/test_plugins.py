"""The plugin examples of docs/extending.md, run as written from a folder outside the repository
(in-process, as ``msmult run`` composes them): a plugin explorer, attack and defence; and broken
plugins named in one paragraph."""

import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT, compose_config, refusal_of, run_in_process, small
from report_checks import check_run_outputs

from msmult import pipeline

pytestmark = pytest.mark.e2e


def readme_examples() -> tuple[dict[str, str], list[str]]:
    """Files (``# file: NAME`` blocks, appended in order) and commands of the plugin examples."""
    section = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
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


def run_example(command: str, folder: Path, name: str, monkeypatch) -> tuple[dict, Path]:
    """``command`` (``msmult run ...``) run from ``folder``, as the CLI would: the folder is the
    working directory and on the import path."""
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    run_dir = folder / name
    report = run_in_process(run_dir, *command.split()[2:], "budget=500")
    check_run_outputs(run_dir, report)
    return report, run_dir


def test_the_readme_shows_three_plugins():
    files, commands = readme_examples()
    assert set(files) == {
        "myplugins.py",
        "myconf/rashomon/seeds.yaml",
        "myconf/attack/uncertainty.yaml",
        "myconf/api/smoothed.yaml",
    }
    assert len(commands) == 3


def test_plugin_explorer(plugin_folder, monkeypatch):
    command = readme_examples()[1][0]
    report, run_dir = run_example(command, plugin_folder, "explorer", monkeypatch)
    assert report["rashomon"]["explorer"] == "seeds"
    table = pd.read_csv(run_dir / "surrogates.csv")
    assert table["kind"].tolist() == ["base", "reseeded", "reseeded", "reseeded"]
    assert table["loss"].nunique() == 4  # four distinct fitted models


def test_plugin_attack(plugin_folder, monkeypatch):
    report, _ = run_example(readme_examples()[1][1], plugin_folder, "attack", monkeypatch)
    attack = report["attack"]
    assert attack["name"] == "uncertainty"
    assert attack["holdout"] == "separate uniform pool draw"
    assert attack["queries_used"] == 500 == attack["fit_rows"] + attack["holdout_rows"]
    assert attack["holdout_rows"] == 100


def test_plugin_defence(plugin_folder, monkeypatch):
    report, _ = run_example(readme_examples()[1][2], plugin_folder, "defence", monkeypatch)
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
        (
            ["hydra.searchpath=[file://conf]", "rashomon=wrong"],
            "explorer WrongShapes returned scores['test'] of shape (1, 3, 2)",
        ),
        (
            ["+api.defences=[{_target_: hydra.utils.get_method, path: broken.nan_defence}]"],
            "API defence nan_defence returned NaN",
        ),
    ],
    ids=["explorer", "defence"],
)
def test_broken_plugins_are_named_in_one_paragraph(tmp_path, monkeypatch, overrides, message):
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "conf" / "rashomon").mkdir(parents=True)
    (tmp_path / "conf" / "rashomon" / "wrong.yaml").write_text("_target_: broken.WrongShapes\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = compose_config(*small("budget=300", *overrides))
    assert message in refusal_of(lambda: pipeline.run(cfg, tmp_path / "run"))
    assert not (tmp_path / "run" / "report.json").exists()
