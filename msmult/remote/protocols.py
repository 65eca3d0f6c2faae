"""Request bodies and answers of the two prediction protocols msmult speaks, as plain values.

- ``v2``: the Open Inference Protocol (KServe V2 inference protocol, REST:
  https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/), served by KServe,
  Triton and MLServer. ``POST /v2/models/{model}/infer`` with ``inputs`` (name, shape, datatype,
  row-major ``data``) and answered with ``outputs`` of the same form. msmult sends one input per
  raw column (MLServer's ``pd`` request content type, ``str`` for text columns) or one 2-D FP64
  tensor, and asks for the output that holds the class probabilities.
- ``mlflow``: MLflow's scoring server (``mlflow models serve``,
  https://mlflow.org/docs/latest/deployment/deploy-model-locally.html): ``POST /invocations`` with
  ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}``, answered
  ``{"predictions": ...}``.

Missing values travel as JSON ``null``. Codecs raise ``MsmultError`` for an answer they cannot
read; the probabilities' own checks are in ``msmult.remote.answers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from msmult.errors import MsmultError

PROTOCOLS = ("v2", "mlflow")
INPUTS = ("columns", "tensor")


@dataclass(frozen=True)
class Schema:
    """The endpoint's inputs: raw column names and their v2 datatypes (INT64, FP64, BYTES)."""

    columns: tuple[str, ...]
    datatypes: tuple[str, ...]

    def describe(self) -> list[dict[str, str]]:
        return [{"name": c, "datatype": d} for c, d in zip(self.columns, self.datatypes)]


@dataclass(frozen=True)
class Codec:
    """How rows go out and probabilities come back for one ``protocol`` (see the module)."""

    protocol: str
    model: str
    output: str | None
    inputs: str = "columns"
    tensor_name: str = "input-0"

    def path(self) -> str:
        return f"/v2/models/{self.model}/infer" if self.protocol == "v2" else "/invocations"

    def request(self, schema: Schema, rows: Sequence[Sequence[Any]]) -> dict:
        """The request body for ``rows`` (each a list of JSON-ready values in schema order)."""
        if self.protocol == "mlflow":
            return {"dataframe_split": {"columns": list(schema.columns), "data": list(rows)}}
        body: dict[str, Any] = {"inputs": self.v2_inputs(schema, rows)}
        if self.inputs == "columns":
            body["parameters"] = {"content_type": "pd"}
        if self.output:
            body["outputs"] = [{"name": self.output}]
        return body

    def v2_inputs(self, schema: Schema, rows: Sequence[Sequence[Any]]) -> list[dict]:
        if self.inputs == "tensor":
            flat = [value for row in rows for value in row]
            shape = [len(rows), len(schema.columns)]
            return [{"name": self.tensor_name, "shape": shape, "datatype": "FP64", "data": flat}]
        columns = list(zip(*rows)) if rows else [() for _ in schema.columns]
        return [
            {
                "name": name,
                "shape": [len(rows), 1],
                "datatype": datatype,
                "data": list(values),
                **({"parameters": {"content_type": "str"}} if datatype == "BYTES" else {}),
            }
            for name, datatype, values in zip(schema.columns, schema.datatypes, columns)
        ]

    def answer(self, body: Any, url: str) -> np.ndarray:
        """The (rows, classes) scores in ``body``, before any check of their values."""
        values = self.v2_output(body, url) if self.protocol == "v2" else self.predictions(body, url)
        try:
            return np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise MsmultError(
                f"{url} answered scores that are not all numbers (e.g. {str(values)[:80]}); "
                "victim.output must name the output that holds the class probabilities."
            ) from None

    def v2_output(self, body: Any, url: str) -> Any:
        outputs = body.get("outputs") if isinstance(body, dict) else None
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            raise MsmultError(
                f"{url} answered without an `outputs` list (got {str(body)[:120]}); an Open "
                "Inference Protocol v2 endpoint answers {'outputs': [{'name', 'shape', "
                "'datatype', 'data'}]}: check victim.protocol."
            )
        names = [o.get("name") for o in outputs]
        if self.output is None and len(outputs) == 1:
            chosen = outputs[0]
        elif self.output in names:
            chosen = outputs[names.index(self.output)]
        else:
            raise MsmultError(
                f"{url} answered outputs {names}, none named victim.output={self.output!r}; set "
                "victim.output to the one that holds the class probabilities, e.g. "
                f"victim.output={names[0]}."
            )
        shape, data = chosen.get("shape"), chosen.get("data")
        if not isinstance(shape, list) or not isinstance(data, list) or len(shape) != 2:
            raise MsmultError(
                f"{url} answered output {chosen.get('name')!r} with shape {shape}; expected a 2-D "
                "(rows, classes) tensor of class probabilities with its data."
            )
        if int(np.prod(shape)) != len(data):
            raise MsmultError(
                f"{url} answered output {chosen.get('name')!r} with shape {shape} but "
                f"{len(data)} values; a v2 tensor's data holds prod(shape) values, row-major."
            )
        return np.asarray(data, dtype=object).reshape(shape).tolist()

    def predictions(self, body: Any, url: str) -> Any:
        if not isinstance(body, dict) or "predictions" not in body:
            raise MsmultError(
                f"{url} answered without `predictions` (got {str(body)[:120]}); an MLflow "
                "scoring server answers {'predictions': ...}: check victim.protocol."
            )
        predictions = body["predictions"]
        if isinstance(predictions, list) and predictions and isinstance(predictions[0], dict):
            if self.output is None or any(self.output not in p for p in predictions):
                raise MsmultError(
                    f"{url} answered records with fields {sorted(predictions[0])}; set "
                    "victim.output to the field that holds the class probabilities."
                )
            return [p[self.output] for p in predictions]
        return predictions
