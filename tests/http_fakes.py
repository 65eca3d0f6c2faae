"""A scripted prediction endpoint on 127.0.0.1 (stdlib ``http.server`` in a thread), a proxy that
throttles a real one, and the small table both are exercised with."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd


def small_table(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """Continuous features (so no two raw rows coincide), a text and an integer column, a group
    and a binary label that depends on them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)).round(6)
    kind = rng.choice(["a", "b", "c"], size=rows)
    count = rng.integers(0, 9, size=rows)
    group = rng.choice(["A", "B"], size=rows)
    score = x[:, 0] - x[:, 1] + 0.3 * (kind == "a") + 0.1 * count - 0.4 + 0.3 * (group == "A")
    label = np.where(score + rng.normal(scale=0.5, size=rows) > 0, "yes", "no")
    return pd.DataFrame(
        {
            "x1": x[:, 0],
            "x2": x[:, 1],
            "x3": x[:, 2],
            "kind": kind,
            "count": count,
            "group": group,
            "label": label,
        }
    )


def v2_rows(body: dict) -> tuple[int, dict[str, list]]:
    """Row count and columns of a v2 request with one input per column."""
    columns = {i["name"]: i["data"] for i in body["inputs"]}
    return body["inputs"][0]["shape"][0], columns


def good_answer(body: dict) -> dict:
    """Probabilities that depend on each row's x1 (a deterministic stand-in victim)."""
    n, columns = v2_rows(body)
    p = 1 / (1 + np.exp(-np.asarray(columns["x1"], dtype=float)))
    proba = np.column_stack([1 - p, p])
    return {
        "outputs": [
            {
                "name": "predict_proba",
                "shape": [n, 2],
                "datatype": "FP64",
                "data": proba.ravel().tolist(),
            }
        ]
    }


@dataclass
class Reply:
    status: int = 200
    body: bytes | None = None  # None: the good answer for the request
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class FakeEndpoint:
    """Answers each POST with the next scripted ``Reply`` (then good answers); ``seen`` holds
    every request's body and headers."""

    script: list[Reply | Callable[[dict], Reply]] = field(default_factory=list)
    seen: list[tuple[dict, dict]] = field(default_factory=list)
    url: str = ""

    def rows_received(self) -> int:
        return sum(v2_rows(body)[0] for body, _ in self.seen)


def respond(
    handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict | None = None
) -> None:
    """Send ``payload`` as a JSON answer with ``status`` and extra ``headers``."""
    handler.send_response(status)
    for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


@contextmanager
def fake_endpoint(*script: Reply | Callable[[dict], Reply]) -> Iterator[FakeEndpoint]:
    endpoint = FakeEndpoint(list(script))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            endpoint.seen.append((body, dict(self.headers)))
            reply = endpoint.script.pop(0) if endpoint.script else Reply()
            reply = reply(body) if callable(reply) else reply
            time.sleep(reply.delay_s)
            payload = (
                reply.body if reply.body is not None else json.dumps(good_answer(body)).encode()
            )
            respond(self, reply.status, payload, reply.headers)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        endpoint.url = url
        yield endpoint


@contextmanager
def throttling_proxy(target: str, first: int) -> Iterator[tuple[str, list[int]]]:
    """A proxy to ``target`` that answers its ``first`` POSTs with 429 and ``Retry-After: 0``;
    yields its URL and the list of statuses it answered."""
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            data = self.rfile.read(int(self.headers["Content-Length"]))
            if len(statuses) < first:
                statuses.append(429)
                respond(self, 429, b"", {"Retry-After": "0"})
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            forwarded = urllib.request.Request(target + self.path, data, headers, method="POST")
            with urllib.request.urlopen(forwarded) as answer:
                payload = answer.read()
                statuses.append(answer.status)
            respond(self, 200, payload)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url, statuses


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (a timeout test) is expected: no traceback on stderr."""


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
