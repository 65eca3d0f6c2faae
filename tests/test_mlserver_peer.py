"""A peer server msmult did not write: ``scripts/serve_mlserver.sh`` serves a scikit-learn pipeline
over Adult's raw columns with MLServer's scikit-learn runtime, and ``msmult run victim=remote``
steals from it. Skipped where MLServer is not installed (``pip install -e ".[mlserver]"``, or an
``mlserver`` of its own virtual environment named by ``MLSERVER``)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import joblib
import numpy as np
import pytest
from helpers import ROOT, read_report, run_cli

from msmult.data.adult import AdultDataset

MLSERVER = os.environ.get("MLSERVER") or shutil.which("mlserver")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not MLSERVER, reason="MLServer is not installed (extra: mlserver)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_msmult_steals_from_a_scikit_learn_pipeline_served_by_mlserver(tmp_path):
    port, folder = free_port(), tmp_path / "model"
    env = {**os.environ, "MLSERVER": MLSERVER, "PYTHON": sys.executable}
    with (tmp_path / "mlserver.log").open("w") as log:
        server = subprocess.Popen(
            [str(ROOT / "scripts" / "serve_mlserver.sh"), str(port), str(folder)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v2/models/victim/ready", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "mlserver.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "MLServer did not become ready"
                time.sleep(0.5)
        overrides = [
            f"victim.url={url}",
            "victim.output=predict_proba",
            f"victim.ledger={tmp_path / 'l.jsonl'}",
        ]
        process = run_cli(
            "run",
            "victim=remote",
            *overrides,
            "budget=300",
            "debug=fast",
            f"hydra.run.dir={tmp_path / 'run'}",
            cwd=tmp_path,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert process.returncode == 0, process.stderr[-3000:]
    report = read_report(tmp_path / "run")
    splits = AdultDataset().load(seed=0)
    pipeline = joblib.load(folder / "model.joblib")
    test = splits.raw.test[list(splits.raw.features)]
    test = test.astype({c: object for c in test.columns if not splits.raw.numeric(c)})
    expected = (pipeline.predict(test) == np.asarray(splits.classes)[splits.y_test]).mean()
    assert report["victim"]["accuracy"] == pytest.approx(expected, abs=1e-12)
    assert report["remote"]["evaluation_rows"] == len(test)
    assert report["attack"]["queries_used"] == 300
