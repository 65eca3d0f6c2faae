"""The HTTP side of a remote victim: JSON POSTs with retries, pacing, timeouts and TLS.

Retries are urllib3's ``Retry``: on connection errors, timeouts, and HTTP 429 / 502 / 503 / 504
(honouring ``Retry-After``, RFC 9110 section 10.2.3), exponential backoff with jitter, at most
``retries`` times. Then a one-paragraph ``MsmultError`` names the URL, the status and what to do.
TLS certificates are verified (the system's CA store, or ``ca_bundle``). Header values come from
environment variables, are sent and are never logged or stored.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.retry import Retry

from msmult.errors import MsmultError

RETRY_STATUSES = frozenset({429, 502, 503, 504})
RESUME = "Rerun the same command to resume: every row answered so far is kept in the ledger."


@dataclass
class Traffic:
    """What the endpoint cost so far: requests, retries, 429s and each request's seconds."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    latencies: list[float] = field(default_factory=list)


class Endpoint:
    """POSTs JSON to ``url + path`` and returns the parsed JSON answer.

    ``rate``: at most this many requests per second (``None``: no pacing); ``timeout_s``: for
    connecting and for each read; ``headers``: sent with every request (values never logged)."""

    def __init__(
        self,
        url: str,
        timeout_s: float,
        retries: int,
        rate: float | None = None,
        headers: dict[str, str] | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.interval = 0.0 if rate is None else 1.0 / rate
        self.traffic = Traffic()
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._next = 0.0
        self._pool = urllib3.PoolManager(
            retries=Retry(
                total=retries,
                allowed_methods=None,  # every method, POST included: inference has no side effect
                status_forcelist=RETRY_STATUSES,
                backoff_factor=0.25,
                backoff_jitter=0.25,
                respect_retry_after_header=True,
                raise_on_status=False,
            ),
            timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle,
        )

    def post(self, path: str, body: dict) -> Any:
        """The JSON answer to ``body`` at ``path``; a one-paragraph error on any failure."""
        url = self.url + path
        wait = self._next - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        began = time.monotonic()
        self._next = began + self.interval
        try:
            response = self._pool.request(
                "POST", url, body=json.dumps(body).encode(), headers=self._headers
            )
        except MaxRetryError as err:
            self.traffic.retries += self.retries
            raise self.unreachable(url, err.reason) from None
        self.traffic.requests += 1
        self.traffic.latencies.append(time.monotonic() - began)
        history = response.retries.history if response.retries else ()
        self.traffic.retries += len(history)
        self.traffic.throttled += sum(h.status == 429 for h in history) + (response.status == 429)
        if response.status != 200:
            raise self.refused(url, response.status, response.data, len(history))
        try:
            return json.loads(response.data)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise MsmultError(
                f"{url} answered 200 with a body that is not JSON ({err}; it starts "
                f"{response.data[:80]!r}). Check victim.url and victim.protocol: the endpoint "
                f"must answer JSON. {RESUME}"
            ) from None

    def unreachable(self, url: str, reason: Any) -> MsmultError:
        """The error for a request that got no HTTP answer, after every retry."""
        tries = f"{self.retries + 1} tries"
        if isinstance(reason, ReadTimeoutError):
            what = (
                f"did not answer within victim.timeout_s={self.timeout_s} s ({tries}). Raise "
                "victim.timeout_s or lower victim.batch_rows"
            )
        elif isinstance(reason, (NewConnectionError, ConnectTimeoutError)):
            what = (
                f"could not be reached ({tries}: {reason}). Check victim.url and that the "
                "server is running"
            )
        elif isinstance(reason, SSLError):
            what = (
                f"failed TLS verification ({reason}). msmult verifies certificates; give the "
                "server's CA with victim.ca_bundle=FILE"
            )
        else:
            what = f"failed ({tries}: {reason}). Check victim.url and the server"
        return MsmultError(f"{url} {what}. {RESUME}")

    def refused(self, url: str, status: int, data: bytes, retried: int) -> MsmultError:
        """The error for an HTTP answer other than 200."""
        said = data[:200].decode("utf-8", "replace").strip()
        head = f"{url} answered HTTP {status}" + (f" ({said})" if said else "")
        if status in (401, 403):
            todo = (
                "The endpoint wants credentials: name the environment variable that holds "
                "each header's value in victim.headers_env, e.g. "
                "victim.headers_env={Authorization:MY_TOKEN_VAR}, or check that value"
            )
        elif status == 404:
            todo = "No such model or route: check victim.model, victim.url and victim.protocol"
        elif status in RETRY_STATUSES:
            todo = (
                f"It still answered {status} after {retried} retries (Retry-After honoured): "
                "lower victim.rate or raise victim.retries"
            )
        elif 400 <= status < 500:
            todo = (
                "The endpoint refused the request: check victim.protocol, victim.inputs and "
                "victim.columns against its input schema"
            )
        else:
            todo = "The endpoint failed on this batch: see its own log"
        return MsmultError(f"{head}. {todo}. {RESUME}")
