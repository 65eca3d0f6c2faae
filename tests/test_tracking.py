"""tracking=mlflow: one MLflow run per job (sweeps included) with the config as params, the
report's numbers as metrics, report.md / report.json / figures as artifacts, in a SQLite store in
the folder msmult runs in; a file store only when asked for and allowed."""

import json

import pytest
from helpers import compose_config, run_cli, small

from msmult.errors import MsmultError
from msmult.settings import build
from msmult.tracking import config_params, file_store_uri, report_metrics


def test_report_numbers_become_dotted_metrics():
    report = {
        "victim": {"accuracy": 0.8, "cache": "hit", "ok": True},
        "curve": [{"epsilon": 0.0, "set_size": 3}, {"epsilon": 0.01, "set_size": 5}],
        "quantiles": [0.1, 0.2],
        "nan": float("nan"),
        "odd key(1)": 2,
    }
    assert report_metrics(report) == {
        "victim.accuracy": 0.8,
        "curve.0.epsilon": 0.0,
        "curve.0.set_size": 3.0,
        "curve.1.epsilon": 0.01,
        "curve.1.set_size": 5.0,
        "odd key_1_": 2.0,
    }


def test_config_becomes_flat_text_params():
    params = config_params(
        {"rashomon": {"rates": [0.1, 0.2]}, "membership": {"epsilon": 0.02}, "seed": 0}
    )
    assert params == {"rashomon.rates": "[0.1, 0.2]", "membership.epsilon": "0.02", "seed": "0"}


def test_a_folder_becomes_a_file_uri_and_urls_stay(tmp_path):
    assert file_store_uri(str(tmp_path / "mlruns")) == (tmp_path / "mlruns").as_uri()
    assert file_store_uri("http://localhost:5000") == "http://localhost:5000"


def test_the_default_store_is_a_sqlite_database_in_the_folder_msmult_runs_in(tmp_path, monkeypatch):
    pytest.importorskip("mlflow", reason="pip install 'msmult[mlflow]'")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    tracker = build(compose_config("tracking=mlflow").tracking)
    assert tracker.tracking_uri == f"sqlite:///{tmp_path}/mlruns.db"


def test_a_file_store_is_refused_unless_mlflow_allows_it(tmp_path, monkeypatch):
    pytest.importorskip("mlflow", reason="pip install 'msmult[mlflow]'")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    cfg = compose_config("tracking=mlflow", f"tracking.tracking_uri={tmp_path / 'mlruns'}")
    with pytest.raises(
        MsmultError, match="tracking.tracking_uri='.*mlruns' is not allowed: it is a"
    ):
        build(cfg.tracking)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # the user's own choice
    assert build(cfg.tracking).tracking_uri == (tmp_path / "mlruns").as_uri()


@pytest.mark.e2e
def test_a_sweep_logs_one_mlflow_run_per_job(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow", reason="pip install 'msmult[mlflow]'")
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_ALLOW_FILE_STORE"):
        monkeypatch.delenv(name, raising=False)
    sweep = tmp_path / "sweep"
    jobs = ("dataset=german", "budget=100", "seed=0,1", "holdout.mode=split")
    args = ("run", "-m", *small(*jobs), "tracking=mlflow", f"hydra.sweep.dir={sweep}")
    process = run_cli(*args, cwd=tmp_path)
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.strip().splitlines()[-1] == f"sweep outputs: {sweep}"
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlruns.db")  # the default store
    experiment = client.get_experiment_by_name("msmult")
    runs = client.search_runs([experiment.experiment_id])
    jobs = sorted(p.parent.name for p in sweep.glob("*/report.json"))
    assert len(jobs) == 2 and sorted(r.info.run_name for r in runs) == jobs  # job folder names
    for run in runs:
        report = json.loads((sweep / run.info.run_name / "report.json").read_text())
        assert run.data.params["seed"] == str(report["seed"])
        assert run.data.params["dataset._target_"] == "msmult.data.german.GermanCreditDataset"
        assert run.data.metrics["victim.accuracy"] == pytest.approx(report["victim"]["accuracy"])
        assert run.data.metrics["attack.budget"] == 100
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"report.md", "report.json", "epsilon_curve.png"} <= artifacts
