"""The whole pipeline over HTTP: ``msmult run victim=remote`` against ``msmult serve`` (a real
uvicorn server in a subprocess on 127.0.0.1) gives the in-process run's numbers, survives a
SIGKILL and 429s, and never writes a header value anywhere."""

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import assert_refused_cleanly, read_report, run_cli

from tests.http_fakes import throttling_proxy
from tests.served import served, write_table

pytestmark = pytest.mark.e2e

SECRET, OTHER = "k-7f3a9c-do-not-log", "k-other-client"  # the server counts rows per key
KEYS = {
    "MSMULT_TEST_SERVE_KEYS": f"{SECRET},{OTHER}",
    "MSMULT_TEST_AUTH": f"Bearer {SECRET}",
    "MSMULT_TEST_OTHER_AUTH": f"Bearer {OTHER}",
}
# the owner cannot retrain an endpoint, so both sides run without the yardstick
RUN = ["debug=fast", "budget=300", "owner.models=0", "verdict.tolerances=fixed"]
VICTIM = "victim.epochs=2"  # the in-process and served victim
# where a victim comes from, and the run's clock: everything else must be equal
NOT_COMPARED = {("victim", "model"), ("victim", "cache"), ("timing",), ("remote",)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("remote")


@pytest.fixture(scope="module")
def dataset(folder) -> list[str]:
    return write_table(folder)


@pytest.fixture(scope="module")
def in_process(folder, dataset) -> dict:
    process = cli(folder, "in-process", *dataset, VICTIM)
    assert process.returncode == 0, process.stderr[-3000:]
    return read_report(folder / "in-process")


@pytest.fixture(scope="module")
def server(folder, dataset):
    serve = [*dataset, VICTIM, "--keys-env", "MSMULT_TEST_SERVE_KEYS"]
    with served(*serve, cwd=folder, cache=folder / "cache", env=KEYS) as server:
        yield server


def cli(folder: Path, name: str, *overrides: str) -> subprocess.CompletedProcess:
    """``msmult run`` as conftest's ``run_cli``, with the key variables set."""
    args = ["run", *RUN, *overrides, f"hydra.run.dir={folder / name}"]
    return run_cli(*args, cwd=folder, cache=folder / "cache", env=KEYS)


def remote(url: str, ledger: Path, *more: str, auth: str = "MSMULT_TEST_AUTH") -> list[str]:
    return [
        "victim=remote",
        f"victim.url={url}",
        f"victim.ledger={ledger}",
        f"victim.headers_env={{Authorization:{auth}}}",
        *more,
    ]


def differences(a, b, path=(), rel: float = 0.0, tol: float = 0.0) -> list:
    """Where two reports differ (numbers by more than ``rel`` relative and ``tol`` absolute),
    leaving out ``NOT_COMPARED``."""
    if path in NOT_COMPARED:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in differences(a.get(k), b.get(k), (*path, k), rel, tol)]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b))
        return [d for i, (x, y) in pairs for d in differences(x, y, (*path, i), rel, tol)]
    if (
        isinstance(a, float)
        and isinstance(b, float)
        and math.isclose(a, b, rel_tol=rel, abs_tol=tol)
    ):
        return []
    return [] if a == b else [(path, a, b)]


def test_a_run_over_http_reports_the_in_process_numbers(folder, dataset, in_process, server):
    process = cli(folder, "over-http", *dataset, *remote(server.url, folder / "http.jsonl"))
    assert process.returncode == 0, process.stderr[-3000:]
    report = read_report(folder / "over-http")
    assert differences(in_process, report) == []
    test_rows = len(pd.read_parquet(folder / "over-http" / "predictions.parquet"))
    section = report["remote"]
    assert section["evaluation_rows"] == test_rows
    assert section["rows_asked"] == report["attack"]["budget"] + test_rows
    assert section["rows_sent"] + section["rows_replayed"] == section["rows_asked"]
    assert section["headers_env"] == {"Authorization": "MSMULT_TEST_AUTH"}
    outputs = [p for p in (folder / "over-http").rglob("*") if p.is_file()]
    for path in [*outputs, folder / "http.jsonl"]:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in process.stdout + process.stderr


def test_a_server_answering_429_to_its_first_requests_gives_the_same_report(
    folder, dataset, in_process, server
):
    with throttling_proxy(server.url, first=3) as (url, statuses):
        process = cli(folder, "throttled", *dataset, *remote(url, folder / "throttled.jsonl"))
    assert process.returncode == 0, process.stderr[-3000:]
    report = read_report(folder / "throttled")
    assert statuses[:3] == [429, 429, 429] and set(statuses[3:]) == {200}
    assert report["remote"]["throttled"] == 3 and report["remote"]["retries"] == 3
    assert differences(in_process, report) == []


def test_a_request_without_the_key_is_refused_in_one_paragraph(folder, dataset, server):
    overrides = [f"victim.url={server.url}", f"victim.ledger={folder / 'nokey.jsonl'}"]
    process = cli(folder, "no-key", *dataset, "victim=remote", *overrides)
    assert_refused_cleanly(process, folder / "no-key", "answered HTTP 401")
    assert "victim.headers_env={Authorization:MY_TOKEN_VAR}" in process.stderr


def test_a_client_killed_mid_attack_resumes_and_the_server_answers_each_row_once(
    folder, dataset, in_process, server
):
    ledger = folder / "killed.jsonl"
    test_rows = in_process["dataset"]["test_rows"]
    budget = in_process["attack"]["budget"]
    client = remote(
        server.url, ledger, "victim.batch_rows=20", "victim.rate=25", auth="MSMULT_TEST_OTHER_AUTH"
    )
    env = {**os.environ, **KEYS, "MSMULT_CACHE_DIR": str(folder / "cache")}
    killed = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "msmult",
            "run",
            *RUN,
            *dataset,
            *client,
            f"hydra.run.dir={folder / 'killed'}",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not ledger.exists() or len(ledger.read_bytes().splitlines()) < 1 + test_rows + 40:
        assert killed.poll() is None, "the run ended before it could be killed mid-attack"
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    answered_before = len(ledger.read_bytes().splitlines()) - 1
    assert test_rows < answered_before < test_rows + budget
    process = cli(folder, "resumed", *dataset, *client)
    assert process.returncode == 0, process.stderr[-3000:]
    report = read_report(folder / "resumed")
    assert report["remote"]["rows_replayed"] >= answered_before
    key = hashlib.sha256(OTHER.encode()).hexdigest()[:8]
    answered = server.get("/msmult/stats")[2]["keys"][key]
    assert answered["distinct_rows"] == budget + test_rows
    # the one batch in flight when the client was killed may have been answered and sent again
    assert answered["rows_answered"] - answered["distinct_rows"] <= 20
    rows = {json.dumps(json.loads(line)["row"]) for line in ledger.read_text().splitlines()[1:]}
    assert len(rows) == budget + test_rows
    # batches of 20 rows, not the in-process 256: float32 sums differ in the last bits (1e-7);
    # differences of nearly equal losses (epsilon's excess losses) keep that 1e-7 absolute
    assert differences(in_process, report, rel=1e-6, tol=1e-6) == []
