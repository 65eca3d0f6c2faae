"""``msmult serve``: the Open Inference Protocol v2 and MLflow routes of a real uvicorn server in a
subprocess, its per-key keys, budget and rate limit, server-side defences, a clean stop, and the
server-side preprocessing equal to the dataset's."""

import hashlib
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from msmult.data.adult import AdultDataset
from msmult.serve.encoding import CompiledEncoder
from tests.served import served, write_table

KEYS = {"MSMULT_TEST_SERVE_KEYS": "alpha,budget,rate,stats"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    return folder, write_table(folder, rows=300)


@pytest.fixture(scope="module")
def server(table):
    folder, dataset = table
    limits = ["--keys-env", "MSMULT_TEST_SERVE_KEYS", "--budget-per-key", "100", "--rate", "5"]
    with served(
        *dataset, "victim=logreg", *limits, cwd=folder, cache=folder / "cache", env=KEYS
    ) as server:
        yield server


def v2_request(rows: pd.DataFrame) -> dict:
    datatypes = {"x1": "FP64", "x2": "FP64", "x3": "FP64", "kind": "BYTES", "count": "INT64"}
    return {
        "inputs": [
            {"name": c, "shape": [len(rows), 1], "datatype": d, "data": plain(rows[c])}
            for c, d in datatypes.items()
        ]
    }


def plain(column: pd.Series) -> list:
    """JSON-ready values, missing as None (JSON null)."""
    return [None if v != v else v for v in column.astype(object)]


ROWS = pd.DataFrame(
    {
        "x1": [0.1, -1.0, 2.0],
        "x2": [0.0, 0.5, None],
        "x3": [1.0, 1.0, 1.0],
        "kind": ["a", "c", None],
        "count": [3, 0, 8],
    }
)


def test_health_and_metadata_endpoints_of_both_protocols_answer(server):
    assert server.get("/v2/health/live")[2] == {"live": True}
    assert server.get("/v2/health/ready")[2] == {"ready": True}
    assert server.get("/v2")[2]["name"] == "msmult"
    assert server.get("/v2/models/victim/ready")[2] == {"name": "victim", "ready": True}
    metadata = server.get("/v2/models/victim")[2]
    assert [(i["name"], i["datatype"]) for i in metadata["inputs"]] == [
        ("x1", "FP64"),
        ("x2", "FP64"),
        ("x3", "FP64"),
        ("kind", "BYTES"),
        ("count", "INT64"),
    ]
    assert metadata["outputs"] == [{"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]}]
    assert metadata["parameters"]["classes"] == ["no", "yes"]
    assert server.get("/ping")[0] == 200 and server.get("/health")[0] == 200


def test_both_protocols_answer_the_same_probabilities_for_raw_rows(server):
    status, _, v2 = server.post("/v2/models/victim/infer", v2_request(ROWS), bearer("alpha"))
    assert status == 200
    output = v2["outputs"][0]
    assert output["name"] == "predict_proba" and output["shape"] == [3, 2]
    split = {
        "columns": list(ROWS.columns),
        "data": [list(r) for r in zip(*map(plain, (ROWS[c] for c in ROWS)))],
    }
    status, _, mlflow = server.post("/invocations", {"dataframe_split": split}, bearer("alpha"))
    assert status == 200
    proba = np.asarray(output["data"]).reshape(3, 2)
    np.testing.assert_array_equal(proba, np.asarray(mlflow["predictions"]))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "message"),
    [
        (
            "/v2/models/other/infer",
            {},
            bearer("alpha"),
            404,
            "model 'other' not found; this server serves 'victim'",
        ),
        ("/v2/models/victim/infer", {"inputs": []}, {}, 401, "a valid key is required"),
        ("/v2/models/victim/infer", {"inputs": []}, bearer("nope"), 401, "a valid key is required"),
        ("/v2/models/victim/infer", {"inputs": []}, bearer("alpha"), 400, "non-empty `inputs`"),
        (
            "/v2/models/victim/infer",
            {"inputs": [{"name": "x1", "shape": [1], "data": [1.0]}]},
            bearer("alpha"),
            400,
            "lacks input columns",
        ),
        (
            "/invocations",
            {"instances": []},
            bearer("alpha"),
            400,
            "`dataframe_split` or `dataframe_records`",
        ),
    ],
)
def test_bad_requests_get_their_status_and_an_error_message(
    server, path, body, headers, status, message
):
    answered, answer_headers, answer = server.post(path, body, headers)
    assert answered == status and message in answer["error"]
    if status == 401:
        assert answer_headers["WWW-Authenticate"] == "Bearer"


def test_a_key_past_its_row_budget_gets_429_without_retry_after(server):
    rows = pd.concat([ROWS.iloc[:1]] * 50, ignore_index=True)
    assert server.post("/v2/models/victim/infer", v2_request(rows), bearer("budget"))[0] == 200
    assert server.post("/v2/models/victim/infer", v2_request(rows), bearer("budget"))[0] == 200
    status, headers, answer = server.post(
        "/v2/models/victim/infer", v2_request(ROWS), bearer("budget")
    )
    assert status == 429 and "Retry-After" not in headers
    assert "budget of 100 rows is spent (100 answered" in answer["error"]


def test_a_key_past_its_rate_gets_429_with_retry_after(server):
    answers = [
        server.post("/v2/models/victim/infer", v2_request(ROWS.iloc[:1]), bearer("rate"))
        for _ in range(8)
    ]
    throttled = [a for a in answers if a[0] == 429]
    assert throttled and throttled[0][1]["Retry-After"] == "1"
    assert "rate limit of 5.0 requests per second" in throttled[0][2]["error"]


def test_stats_count_each_keys_rows_and_distinct_rows(server):
    for _ in range(2):
        server.post("/v2/models/victim/infer", v2_request(ROWS), bearer("stats"))
    stats = server.get("/msmult/stats")[2]["keys"][hashlib.sha256(b"stats").hexdigest()[:8]]
    assert stats == {"requests": 2, "rows_answered": 6, "distinct_rows": 3}
    assert "stats" not in server.get("/msmult/stats")[2]["keys"]  # keys never appear in clear


def test_a_label_api_serves_one_hot_rows_and_sigint_stops_the_server_cleanly(table):
    folder, dataset = table
    with served(
        *dataset, "victim=logreg", "api=label", cwd=folder, cache=folder / "cache"
    ) as server:
        answer = server.post("/v2/models/victim/infer", v2_request(ROWS))[2]
        returncode, log = server.stop(signal.SIGINT)
    proba = np.asarray(answer["outputs"][0]["data"]).reshape(3, 2)
    assert set(proba.ravel()) <= {0.0, 1.0} and (proba.sum(axis=1) == 1).all()
    assert returncode == 0 and "msmult serve: stopped" in log


def test_served_preprocessing_equals_the_datasets_on_missing_values_and_unknown_categories():
    raw = AdultDataset().load(seed=0).raw
    rows = pd.concat([raw.test, raw.pool.iloc[:2000]], ignore_index=True)[list(raw.features)]
    rows.loc[0, "workclass"] = "never-seen-before"
    rows.loc[1, "age"] = np.nan
    assert rows.isna().to_numpy().any()
    columns = {c: plain(rows[c]) for c in rows}
    np.testing.assert_array_equal(CompiledEncoder(raw.encoder).transform(columns), raw.encode(rows))


def test_a_run_folder_serves_the_victim_of_that_run(table):
    folder, dataset = table
    run = folder / "finished-run"  # what msmult run leaves: its overrides and resolved config
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(
        "".join(f"- {o}\n" for o in [*dataset, "victim=logreg"])
    )
    (run / "config.yaml").write_text(f"cache:\n  dir: {folder / 'cache'}\n")
    with served(str(run), cwd=folder, cache=folder / "elsewhere") as server:
        metadata = server.get("/v2/models/victim")[2]
        log = server.log.read_text()
    assert [i["name"] for i in metadata["inputs"]] == ["x1", "x2", "x3", "kind", "count"]
    assert "victim of table (seed 0" in log


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "msmult", "serve", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 1 and "Traceback" not in process.stderr
    assert "is not a run folder of msmult run (it has no .hydra/overrides.yaml)" in process.stderr
