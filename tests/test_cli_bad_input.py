"""More bad input through the real CLI (issue 10): wrong types get the same one-paragraph message
as wrong values, every config group is checked before any training, sensitive columns with too
many groups, unwritable output folders. Each case: non-zero exit, the value named, no traceback,
no report.json. Most fail before the data is loaded, so each takes a few seconds."""

import os

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.e2e

CASES = [
    # wrong types, each named with what is allowed
    (("rashomon.epsilon=abc",), "rashomon.epsilon='abc' is not allowed"),
    (("budget=1e3",), "budget=1000.0 is not allowed"),
    (("rashomon.rates=[a]",), "rashomon.rates=['a'] is not allowed"),
    (("rashomon.epsilon_grid=[a]",), "rashomon.epsilon_grid=['a'] is not allowed"),
    (("threads=abc",), "threads='abc' is not allowed"),
    (("capacity_tol=x",), "capacity_tol='x' is not allowed"),
    (("victim_cache=maybe",), "victim_cache='maybe' is not allowed"),
    # api
    (("api=rounded", "api.defences.0.decimals=-1"), "api.decimals=-1 is not allowed"),
    (("api.decimals=-1",), "api.decimals=-1 is not allowed"),
    (("api.decimals=abc",), "api.decimals='abc' is not allowed"),
    (("api=top_k", "api.k=0"), "api.k=0 is not allowed"),
    (("api.mode=foo",), "api.mode='foo' is not allowed"),
    # explorer
    (("rashomon.kinds=[x]",), "rashomon.kinds=['x'] is not allowed"),
    (("rashomon.draws_per_rate=0",), "rashomon.draws_per_rate=0 is not allowed"),
    # surrogate and victim, torch and scikit-learn
    (("surrogate.epochs=0",), "surrogate.epochs=0 is not allowed"),
    (("surrogate.lr=abc",), "surrogate.lr='abc' is not allowed"),
    (("victim.lr=-1",), "victim.lr=-1 is not allowed"),
    (("victim.batch_size=0",), "victim.batch_size=0 is not allowed"),
    (("victim=logreg", "victim.estimator.C=-1"), "victim.estimator.C=-1 is not allowed"),
    (("victim=gbdt", "victim.estimator.max_iter=0"), "victim.estimator.max_iter=0 is not allowed"),
    # datasets
    (("dataset.victim_share=2",), "dataset.victim_share=2 is not allowed"),
    (("dataset=german", "dataset.age_threshold=abc"), "dataset.age_threshold='abc' is not allowed"),
    (("dataset=compas", "dataset.fractions=[a,b,c]"), "dataset.fractions=['a', 'b', 'c']"),
    (("dataset.sensitive_as_feature=maybe",), "dataset.sensitive_as_feature='maybe'"),
    (("dataset.sensitive_bins=[b]",), "dataset.sensitive_bins=['b'] is not allowed"),
    (("dataset.sensitive_bins=[60,25]",), "dataset.sensitive_bins=[60.0, 25.0] is not allowed"),
    (("dataset.max_groups=1",), "dataset.max_groups=1 is not allowed"),
    (("dataset.sensitive=age",), "dataset.sensitive='age' has 74 distinct values"),
    (("dataset.sensitive=race", "dataset.sensitive_bins=[1,2]"), "holds 'White'"),
    (("dataset.drop_columns=[nosuch]",), "dataset.drop_columns=['nosuch']"),
    (("dataset=davidson", "dataset.hatecheck=maybe"), "dataset.hatecheck='maybe' is not allowed"),
    # attacks
    (("attack.seed=abc",), "attack.seed='abc' is not allowed"),
    (("attack=random", "attack.seed=-2"), "attack.seed=-2 is not allowed"),
    # tracking
    (("tracking=mlflow", "tracking.experiment=''"), "tracking.experiment='' is not allowed"),
]


@pytest.mark.parametrize(("overrides", "message"), CASES, ids=lambda c: str(c))
def test_bad_value_is_refused_cleanly(msmult_run, overrides, message):
    process, run_dir = msmult_run(*overrides)
    output = process.stdout + process.stderr
    assert process.returncode != 0, output[-2000:]
    assert message in output, output[-2000:]
    assert "Traceback" not in output
    assert not (run_dir / "report.json").exists()


def test_continuous_sensitive_csv_column_suggests_bins(msmult_run, tmp_path):
    path = tmp_path / "radius.csv"
    path.write_text(
        "mean radius,x,y\n" + "".join(f"{10 + i / 7:.3f},{i % 5},{i % 2}\n" for i in range(200))
    )
    process, run_dir = msmult_run(
        "dataset=csv", f"dataset.path={path}", "dataset.target=y", "dataset.sensitive=mean radius"
    )
    assert process.returncode != 0
    assert "dataset.sensitive='mean radius' has 200 distinct values" in process.stderr
    assert "dataset.sensitive_bins=[" in process.stderr and "Traceback" not in process.stderr
    assert not (run_dir / "report.json").exists()


def unwritable_folders(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    folders = {"proc": "/proc/msmult-cannot-be-here", "under_a_file": str(a_file / "run")}
    if os.geteuid() != 0:  # root writes into read-only folders
        read_only = tmp_path / "read_only"
        read_only.mkdir(mode=0o555)
        folders["read_only"] = str(read_only / "run")
    return folders


@pytest.mark.parametrize("kind", ["proc", "under_a_file", "read_only"])
@pytest.mark.parametrize("mode", ["run", "sweep"])
def test_unwritable_output_folder_is_named_before_any_work(tmp_path, kind, mode):
    folder = unwritable_folders(tmp_path).get(kind)
    if folder is None:
        pytest.skip("running as root: a read-only folder is writable")
    key = "hydra.run.dir" if mode == "run" else "hydra.sweep.dir"
    args = ["run", *(["-m"] if mode == "sweep" else []), "debug=fast", f"{key}={folder}"]
    process = run_cli(*args, cwd=tmp_path)
    assert process.returncode != 0
    assert f"The output folder {folder} cannot be created or written" in process.stderr
    assert f"{key}=PATH" in process.stderr
    assert "Traceback" not in process.stderr and "stage: data" not in process.stdout
