"""The FastAPI application of ``msmult serve``: the Open Inference Protocol v2 and MLflow's routes.

v2 (https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/): server
metadata ``GET /v2``, health ``GET /v2/health/live`` and ``/v2/health/ready``, model metadata
``GET /v2/models/{model}`` and readiness ``/ready``, inference ``POST /v2/models/{model}/infer``;
errors answer ``{"error": "..."}``. MLflow's scoring server: ``GET /ping``, ``GET /health``,
``GET /version``, ``POST /invocations`` answered ``{"predictions": [[...], ...]}``. msmult's own:
``GET /msmult/stats`` (requests, rows answered and distinct rows answered, per key).

Requests are handled one at a time on the event loop (CPU-bound, and the defences' random
generator is shared), bodies are read with the standard ``json`` module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import Response

from msmult.serve.limits import KeyLimits, Refusal
from msmult.serve.model import OUTPUT, BadRequest, Columns, ServedModel


def reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status, headers, media_type="application/json")


def refuse(refusal: Refusal) -> Response:
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
    if refusal.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return reply({"error": refusal.message}, refusal.status, headers)


def create_app(model: ServedModel, limits: KeyLimits, name: str = "victim") -> FastAPI:
    """The app serving ``model`` as ``name`` under ``limits``."""
    app = FastAPI(title="msmult serve", docs_url=None, redoc_url=None, openapi_url=None)
    metadata = {
        "name": name,
        "versions": [],
        "platform": f"msmult/{type(model.victim).__name__}",
        "inputs": [
            {"name": c, "datatype": d, "shape": [-1, 1]}
            for c, d in zip(model.schema.columns, model.schema.datatypes)
        ],
        "outputs": [{"name": OUTPUT, "datatype": "FP64", "shape": [-1, len(model.classes)]}],
        "parameters": {"classes": list(model.classes)},
    }

    async def answered(request: Request, parse: Callable[[Any], Columns]) -> Any:
        """The scores for the request's rows, or the Response that refuses it."""
        key = limits.key_of(request.headers.get("authorization"))
        if isinstance(key, Refusal):
            return refuse(key)
        try:
            columns = parse(json.loads(await request.body()))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            return reply({"error": f"the body is not JSON: {err}"}, 400)
        except BadRequest as err:
            return reply({"error": str(err)}, 400)
        rows = list(zip(*columns.values()))
        refusal = limits.admit(key, len(rows))
        if refusal:
            return refuse(refusal)
        scores = model.answer(columns)
        limits.record(key, [hash(row) for row in rows])
        return scores

    @app.get("/v2")
    async def server_metadata() -> Response:
        return reply({"name": "msmult", "version": version("msmult"), "extensions": []})

    @app.get("/v2/health/live")
    async def live() -> Response:
        return reply({"live": True})

    @app.get("/v2/health/ready")
    async def ready() -> Response:
        return reply({"ready": True})

    def unknown(model_name: str) -> Response | None:
        if model_name == name:
            return None
        return reply({"error": f"model {model_name!r} not found; this server serves {name!r}"}, 404)

    @app.get("/v2/models/{model_name}")
    async def model_metadata(model_name: str) -> Response:
        return unknown(model_name) or reply(metadata)

    @app.get("/v2/models/{model_name}/ready")
    async def model_ready(model_name: str) -> Response:
        return unknown(model_name) or reply({"name": name, "ready": True})

    @app.post("/v2/models/{model_name}/infer")
    async def infer(model_name: str, request: Request) -> Response:
        if missing := unknown(model_name):
            return missing
        scores = await answered(request, model.v2_columns)
        if isinstance(scores, Response):
            return scores
        output = {"name": OUTPUT, "shape": list(scores.shape), "datatype": "FP64"}
        return reply({"model_name": name, "outputs": [{**output, "data": scores.ravel().tolist()}]})

    @app.get("/ping")
    @app.get("/health")
    async def ping() -> Response:
        return reply({"status": "ok"})

    @app.get("/version")
    async def mlflow_version() -> Response:
        return reply({"msmult": version("msmult")})

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        scores = await answered(request, model.mlflow_columns)
        if isinstance(scores, Response):
            return scores
        return reply({"predictions": np.asarray(scores).tolist()})

    @app.get("/msmult/stats")
    async def stats() -> Response:
        return reply(limits.stats())

    return app
