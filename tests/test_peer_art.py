"""scripts/peer_art.py without ART installed: argument parsing and msmult's side of the table
(the ART side needs the optional extra ``.[peer]`` and is run by hand, see README)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "scripts" / "peer_art.py"


def load_script():
    spec = importlib.util.spec_from_file_location("peer_art", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_arguments_default_to_the_published_comparison():
    args = load_script().parse_args(["--no-art", "surrogate.epochs=5"])
    assert (args.dataset, args.budget, args.seeds) == ("adult", 2000, [0, 1, 2])
    assert (args.art_epochs, args.art_batch_size, args.art_lr) == (60, 64, 1e-3)
    assert args.no_art and args.overrides == ["surrogate.epochs=5"]


@pytest.mark.e2e
def test_msmult_side_runs_without_art(capsys):
    rows = load_script().main(
        ["debug=fast", "victim.epochs=2", "--no-art", "--budget", "300", "--seeds", "0"]
    )
    assert rows[0]["art"] is None and 0.5 < rows[0]["msmult"] <= 1.0
    line = capsys.readouterr().out.splitlines()[1]
    assert line.split()[0] == "0" and "300 fit, 5 folds" in line  # crossfit: all 300 answers
