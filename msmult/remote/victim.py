"""``victim=remote``: a victim that msmult does not train, whose ``predict_proba`` is an HTTP call.

The endpoint receives raw rows in its own input schema (``msmult.remote.rows``), over the Open
Inference Protocol v2 or MLflow's ``/invocations`` (``msmult.remote.protocols``), with retries and
pacing (``msmult.remote.client``). Every answered row goes to the query ledger
(``msmult.remote.ledger``) before msmult uses it; a row already in the ledger is replayed, never
sent again. The rest of msmult sees the same ``PredictionAPI`` as for a victim it trained.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from msmult.data.splits import Splits
from msmult.errors import MsmultError
from msmult.fileio import sha256_of_value
from msmult.remote.answers import checked_probabilities
from msmult.remote.client import Endpoint
from msmult.remote.ledger import Ledger, row_key
from msmult.remote.protocols import INPUTS, PROTOCOLS, Codec
from msmult.remote.rows import RawRows
from msmult.validation import as_list, bad_value, choice, number, whole

log = logging.getLogger("msmult")


def raw_rows(splits: Splits, columns: Sequence[str] | None, key: str) -> RawRows:
    """The pool and test rows of ``splits`` as raw rows in ``columns`` (default: the model
    inputs' raw columns); refuses a dataset without raw rows (images, text)."""
    if splits.raw is None:
        raise MsmultError(
            f"{key} sends raw table rows, and dataset {splits.name} holds images or token ids, "
            "which msmult does not send to a victim it did not train. Use a tabular dataset "
            "(adult, compas, german, csv)."
        )
    raw = splits.raw
    chosen = list(raw.features) if columns is None else list(columns)
    unknown = [c for c in chosen if c not in raw.columns]
    if unknown or not chosen:
        raise bad_value(
            "victim.columns",
            chosen,
            f"each entry must be a raw column of dataset {splits.name} other than its target "
            f"({', '.join(raw.columns)})",
            f"victim.columns=[{','.join(raw.features[:2])}]",
        )
    return RawRows(raw, [(splits.x_pool, raw.pool), (splits.x_test, raw.test)], chosen)


class RemoteVictim:
    """A prediction endpoint as msmult's victim (config: ``conf/victim/remote.yaml``).

    ``url``: the server's base URL; ``protocol``: ``v2`` (Open Inference Protocol) or ``mlflow``;
    ``model``: the v2 model name; ``output``: the output tensor (v2) or record field (mlflow)
    holding the class probabilities; ``inputs``: ``columns`` (one input per raw column) or
    ``tensor`` (one 2-D FP64 tensor, numeric columns only); ``columns``: the raw columns sent
    (default: the model inputs'); ``classes``: the endpoint's class order, when it is not the
    dataset's; ``batch_rows``, ``timeout_s``, ``retries``, ``rate`` (requests per second);
    ``headers_env``: header name -> environment variable holding its value; ``ledger``: the ledger
    file (default: one per endpoint and dataset under ``cache.dir/ledgers/``);
    ``sum_tolerance``: how far a row may miss summing to one and be renormalised;
    ``ca_bundle``: a CA file for a server whose certificate the system store does not trust."""

    section = "remote"

    def __init__(
        self,
        n_classes: int,
        url: str | None = None,
        protocol: str = "v2",
        model: str = "victim",
        output: str | None = None,
        inputs: str = "columns",
        tensor_name: str = "input-0",
        columns: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        batch_rows: int = 256,
        timeout_s: float = 30.0,
        retries: int = 5,
        rate: float | None = None,
        headers_env: Mapping[str, str] | None = None,
        ledger: str | None = None,
        sum_tolerance: float = 1e-3,
        ca_bundle: str | None = None,
    ) -> None:
        self.n_classes = n_classes
        self.url = check_url(url)
        self.codec = Codec(
            choice("victim.protocol", protocol, PROTOCOLS),
            check_name("victim.model", model),
            None if output is None else check_name("victim.output", output),
            choice("victim.inputs", inputs, INPUTS),
            check_name("victim.tensor_name", tensor_name),
        )
        self.columns = (
            None if columns is None else [str(c) for c in as_list("victim.columns", columns)]
        )
        self.classes = (
            None if classes is None else [str(c) for c in as_list("victim.classes", classes)]
        )
        self.batch_rows = whole("victim.batch_rows", batch_rows, 1, example="victim.batch_rows=256")
        self.timeout_s = number("victim.timeout_s", timeout_s, 0, open_low=True, what=" (seconds)")
        self.retries = whole("victim.retries", retries, 0, example="victim.retries=5")
        self.rate = (
            None
            if rate is None
            else number("victim.rate", rate, 0, open_low=True, what=" (requests per second)")
        )
        self.headers_env = dict(headers_env or {})
        self.ledger_path = ledger
        self.sum_tolerance = number(
            "victim.sum_tolerance", sum_tolerance, 0, 1, example="victim.sum_tolerance=1e-3"
        )
        self.endpoint = Endpoint(
            self.url,
            self.timeout_s,
            self.retries,
            self.rate,
            header_values(self.headers_env),
            ca_bundle,
        )
        self.rows: RawRows | None = None
        self.ledger: Ledger | None = None
        self.order: np.ndarray | None = None
        self.asked = self.sent = 0

    def connect(self, splits: Splits, cache_dir: str | None) -> None:
        """Open the raw rows and the ledger of this endpoint and dataset (before any query)."""
        self.rows = raw_rows(splits, self.columns, "victim=remote")
        schema = self.rows.schema()
        if self.codec.inputs == "tensor" and "BYTES" in schema.datatypes:
            text = [c for c, d in zip(schema.columns, schema.datatypes) if d == "BYTES"]
            raise bad_value(
                "victim.inputs",
                "tensor",
                f"one FP64 tensor holds numbers only, and columns {', '.join(text)} are text; use "
                "victim.inputs=columns, or victim.columns=[...] with numeric columns only",
            )
        self.order = class_order(self.classes, splits.classes)
        identity = {
            "endpoint": {
                "url": self.url,
                "protocol": self.codec.protocol,
                "model": self.codec.model,
                "output": self.codec.output,
                "inputs": self.codec.inputs,
                "schema": schema.describe(),
                "classes": self.classes,
            },
            "dataset": {
                "name": splits.name,
                "data_sha256": dict(sorted(splits.data_sha256.items())),
            },
        }
        self.ledger = Ledger(self.ledger_file(identity, cache_dir), identity)
        log.info(
            "remote: %s, ledger %s (%d rows answered before)",
            self.url,
            self.ledger.path,
            len(self.ledger.answers),
        )

    def ledger_file(self, identity: dict, cache_dir: str | None) -> Path:
        if self.ledger_path:
            return Path(self.ledger_path).expanduser()
        if not str(cache_dir or "").strip():
            raise bad_value(
                "cache.dir",
                cache_dir,
                "victim=remote keeps its query ledger under cache.dir; set it, or victim.ledger=FILE",
                "cache.dir=outputs/cache",
            )
        return Path(cache_dir) / "ledgers" / f"{sha256_of_value(identity)[:24]}.jsonl"

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The endpoint's (n, c) probabilities for model-ready rows ``x``: rows in the ledger are
        replayed, the others sent in batches of ``batch_rows`` and recorded before use."""
        if self.rows is None or self.ledger is None:
            raise MsmultError("victim=remote was queried before obtain_victim connected it.")
        keys = [row_key(row) for row in self.rows.rows(x)]
        missing = list(dict.fromkeys(k for k in keys if k not in self.ledger.answers))
        schema = self.rows.schema()
        for start in range(0, len(missing), self.batch_rows):
            batch = missing[start : start + self.batch_rows]
            rows = [json.loads(k) for k in batch]
            body = self.endpoint.post(self.codec.path(), self.codec.request(schema, rows))
            scores = self.codec.answer(body, self.endpoint.url + self.codec.path())
            if scores.ndim == 2 and self.order is not None and scores.shape[1] == len(self.order):
                scores = scores[:, self.order]
            checked = checked_probabilities(
                scores,
                len(batch),
                self.n_classes,
                self.sum_tolerance,
                self.endpoint.url + self.codec.path(),
                f" No answer of this batch was kept; the {len(self.ledger.answers)} rows answered before it are in the ledger {self.ledger.path}.",
            )
            self.ledger.append(batch, checked.tolist())
            self.sent += len(batch)
        self.asked += len(keys)
        return np.asarray([self.ledger.answers[k] for k in keys], dtype=np.float64).reshape(
            len(keys), self.n_classes
        )

    def describe(self, queries_used: int) -> dict[str, Any]:
        """The report's ``remote`` section (header variable names only, never their values)."""
        traffic = self.endpoint.traffic
        latency = np.asarray(traffic.latencies) * 1000
        return {
            "url": self.url,
            "protocol": self.codec.protocol,
            "model": self.codec.model,
            "output": self.codec.output,
            "headers_env": dict(self.headers_env),
            "ledger": str(self.ledger.path) if self.ledger else None,
            "rows_asked": self.asked,
            "rows_sent": self.sent,
            "rows_replayed": self.asked - self.sent,
            "evaluation_rows": self.asked - queries_used,
            "synthesised_rows": self.rows.synthesised if self.rows else 0,
            "requests": traffic.requests,
            "retries": traffic.retries,
            "throttled": traffic.throttled,
            "latency_p50_ms": round(float(np.percentile(latency, 50)), 3) if len(latency) else None,
            "latency_p95_ms": round(float(np.percentile(latency, 95)), 3) if len(latency) else None,
        }


def check_url(url: Any) -> str:
    """An http(s) URL without credentials in it (they belong in a header: victim.headers_env)."""
    parts = urlsplit(str(url or ""))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_value(
            "victim.url",
            url,
            "it must be the endpoint's http:// or https:// base URL",
            "victim.url=http://127.0.0.1:8080",
        )
    if parts.username or parts.password or parts.query:
        raise MsmultError(
            "victim.url holds credentials or a query string, which would be written to "
            "config.yaml and report.json; give the base URL only and put credentials in a "
            "header: victim.headers_env={Authorization:MY_TOKEN_VAR}."
        )
    return str(url).rstrip("/")


def check_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value or "/" in value:
        raise bad_value(key, value, "it must be a non-empty name without '/'")
    return value


def header_values(headers_env: Mapping[str, str]) -> dict[str, str]:
    """Header name -> value, read from the environment variables ``headers_env`` names."""
    values = {}
    for header, variable in headers_env.items():
        value = os.environ.get(str(variable))
        if value is None:
            raise MsmultError(
                f"victim.headers_env names environment variable {variable!r} for header "
                f"{header!r}, and it is not set. Export it before the run (its value is sent as "
                "the header and never logged or stored)."
            )
        values[str(header)] = value
    return values


def class_order(endpoint: Sequence[str] | None, dataset: Sequence[str]) -> np.ndarray | None:
    """Columns of the endpoint's answers in the dataset's class order (``None``: the same)."""
    if endpoint is None:
        return None
    if sorted(endpoint) != sorted(dataset):
        raise bad_value(
            "victim.classes",
            list(endpoint),
            f"it must list the dataset's classes ({', '.join(dataset)}) in the endpoint's order",
        )
    return np.array([list(endpoint).index(c) for c in dataset])
