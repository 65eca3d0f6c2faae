"""``msmult serve`` in a subprocess on 127.0.0.1 at a free port, and plain HTTP calls to it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from tests.http_fakes import small_table


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Message, dict]:
        return call(self.url + path, None, headers)

    def post(self, path: str, body: dict, headers: dict[str, str] | None = None):
        return call(self.url + path, json.dumps(body).encode(), headers)

    def stop(self, signal_number: int) -> tuple[int, str]:
        self.process.send_signal(signal_number)
        return self.process.wait(timeout=30), self.log.read_text()


def call(url: str, data: bytes | None, headers: dict[str, str] | None) -> tuple[int, Message, dict]:
    """(status, headers (case-insensitive), JSON body) of one request, error statuses included."""
    request = urllib.request.Request(
        url, data, {"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read() or b"null")


@contextmanager
def served(
    *args: str, cwd: Path, cache: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start ``msmult serve ARGS --port 0``; yield it once it prints its URL; stop it after."""
    log = cwd / f"serve-{time.monotonic_ns()}.log"
    environment = {**os.environ, "MSMULT_CACHE_DIR": str(cache), **(env or {})}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "msmult", "serve", *args, "--port", "0"],
            cwd=cwd,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while not (found := re.search(r"http://127\.0\.0\.1:\d+", log.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"msmult serve did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield Server(found.group(0), process, log)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def write_table(folder: Path, rows: int = 1500) -> list[str]:
    """The small table as a CSV in ``folder``; the dataset overrides that read it."""
    path = folder / "table.csv"
    small_table(rows).to_csv(path, index=False)
    return [
        "dataset=csv",
        f"dataset.path={path}",
        "dataset.target=label",
        "dataset.sensitive=group",
    ]
