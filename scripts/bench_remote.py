"""Speed of stealing over HTTP, with public tools only: ``msmult serve`` and ``msmult run``.

    python scripts/bench_remote.py [--runs 2] [--requests 3]

1. Starts ``msmult serve dataset=adult`` on 127.0.0.1 (victim cache: ``MSMULT_CACHE_DIR``, else
   ``outputs/cache``) and sends Adult's 16,281 test rows in v2 requests of 256 raw rows, one after
   the other: rows answered per second (each pass; best and median).
2. Times the default Adult run in-process (``msmult run``) and through the server
   (``msmult run victim=remote``, a fresh ledger each time, so every row is sent), alternating,
   ``--runs`` times each: wall seconds and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import urllib3
from cli_run import timed_run

from msmult.data.adult import AdultDataset
from msmult.remote.protocols import Codec
from msmult.remote.victim import raw_rows


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "msmult", "serve", "dataset=adult", "--port", "0"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    while not (found := re.search(r"http://127\.0\.0\.1:\d+", log.read_text())):
        if server.poll() is not None:
            raise SystemExit(f"msmult serve did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return server, found.group(0)


def rows_per_second(url: str, passes: int, batch_rows: int = 256) -> list[float]:
    splits = AdultDataset().load(seed=0)
    rows = raw_rows(splits, None, "bench")
    codec = Codec("v2", "victim", None)
    schema, values = rows.schema(), rows.rows(splits.x_test)
    bodies = [
        json.dumps(codec.request(schema, values[i : i + batch_rows])).encode()
        for i in range(0, len(values), batch_rows)
    ]
    pool = urllib3.PoolManager()
    rates = []
    for _ in range(passes):
        began = time.perf_counter()
        for body in bodies:
            answer = pool.request("POST", url + codec.path(), body=body)
            assert answer.status == 200, answer.data[:200]
            json.loads(answer.data)
        rates.append(len(values) / (time.perf_counter() - began))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs of each kind")
    parser.add_argument("--requests", type=int, default=3, help="passes over the test rows")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="msmult-bench-remote-"))
    cache = os.environ.get("MSMULT_CACHE_DIR", str(Path.cwd() / "outputs" / "cache"))
    env = {**os.environ, "MSMULT_CACHE_DIR": cache}
    server, url = start_server(env, work / "serve.log")
    try:
        rates = rows_per_second(url, options.requests)
        print(
            f"msmult serve, v2, 256 rows per request, sequential: best {max(rates):,.0f} rows/s, "
            f"median {statistics.median(rates):,.0f} rows/s ({len(rates)} passes of 16,281 rows)"
        )
        local, remote = [], []
        for i in range(options.runs):
            local.append(timed_run([], work / f"local{i}", env)["wall_s"])
            ledger = f"victim.ledger={work / f'ledger{i}.jsonl'}"
            remote.append(
                timed_run(["victim=remote", f"victim.url={url}", ledger], work / f"remote{i}", env)[
                    "wall_s"
                ]
            )
            print(f"run {i + 1}: in-process {local[-1]:.1f} s, over HTTP {remote[-1]:.1f} s")
        ratio = statistics.median(remote) / statistics.median(local)
        print(
            f"default Adult run, wall time (median of {options.runs}): in-process "
            f"{statistics.median(local):.1f} s, over HTTP {statistics.median(remote):.1f} s, "
            f"ratio {ratio:.2f}"
        )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
