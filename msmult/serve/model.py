"""A victim msmult trained, answering raw rows as a deployed model does.

Rows arrive in the dataset's raw columns; the dataset's preprocessing is applied server-side
(``CompiledEncoder``: the fitted transformer's arithmetic), the victim scores them, and the ``api``
group's defences and output mode shape the answer, so ``msmult serve api=mad`` is a defended
service. The answer is always a (rows, classes) score tensor, ``predict_proba``: the defended
probabilities, one-hot rows (``api=label``), or top-k scores with the others 0 (``api=top_k``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from msmult.data.raw import RawInputs
from msmult.errors import MsmultError
from msmult.oracle.api import OUTPUTS, PredictionAPI
from msmult.remote.protocols import Schema
from msmult.serve.encoding import CompiledEncoder

OUTPUT = "predict_proba"
Columns = dict[str, list]  # raw column name -> one value per row, None for missing


class BadRequest(MsmultError):
    """A request the server answers with HTTP 400 and this message."""


class ServedModel:
    """``raw`` (the dataset's fitted preprocessing) -> ``victim`` -> ``api``'s defences."""

    def __init__(
        self, raw: RawInputs, victim: Any, api: PredictionAPI, classes: Sequence[str]
    ) -> None:
        self.victim = victim
        self.api = api
        self.classes = tuple(classes)
        self.encoder = CompiledEncoder(raw.encoder)
        self.schema = Schema(raw.features, tuple(map(raw.datatype, raw.features)))

    def answer(self, columns: Columns) -> np.ndarray:
        """(rows, classes) scores for the raw rows in ``columns``, after the API's defences."""
        x = self.encoder.transform(columns)
        served = self.api.served_proba(self.victim.predict_proba(x), x)
        answers = OUTPUTS[self.api.mode](served, self.api.k)
        return np.eye(len(self.classes))[answers] if answers.ndim == 1 else answers

    def checked(self, columns: dict[str, Any], rows: int) -> Columns:
        """The schema's columns of a request, each with ``rows`` values of its type."""
        missing = [c for c in self.schema.columns if c not in columns]
        if missing:
            raise BadRequest(
                f"the request lacks input columns {missing}; this model takes "
                f"{list(self.schema.columns)}"
            )
        for name, datatype in zip(self.schema.columns, self.schema.datatypes):
            values = columns[name]
            if not isinstance(values, list) or len(values) != rows:
                raise BadRequest(f"input {name!r} needs a list of {rows} values, one per row")
            if datatype == "BYTES":
                if not all(v is None or isinstance(v, str) for v in values):
                    raise BadRequest(f"input {name!r} must hold strings (or null)")
            elif not all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                for v in values
            ):
                raise BadRequest(f"input {name!r} must hold numbers (or null)")
        return {c: columns[c] for c in self.schema.columns}

    def v2_columns(self, body: Any) -> Columns:
        """Raw rows from an Open Inference Protocol v2 request: one input per column (shape
        [rows] or [rows, 1]) or one 2-D tensor whose columns are the schema's, in order."""
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if (
            not isinstance(inputs, list)
            or not inputs
            or not all(isinstance(i, dict) for i in inputs)
        ):
            raise BadRequest("a v2 request needs a non-empty `inputs` list of tensors")
        for tensor in inputs:
            shape, data = tensor.get("shape"), tensor.get("data")
            if not isinstance(shape, list) or not shape or not isinstance(data, list):
                raise BadRequest(f"input {tensor.get('name')!r} needs a `shape` and a `data` list")
        shape = inputs[0]["shape"]
        if len(inputs) == 1 and len(shape) == 2 and shape[1] != 1:
            width = len(self.schema.columns)
            if shape[1] != width or len(inputs[0]["data"]) != shape[0] * width:
                raise BadRequest(
                    f"a single 2-D input must have shape [rows, {width}] (columns "
                    f"{list(self.schema.columns)}) and rows x columns values"
                )
            data = inputs[0]["data"]
            table = {c: data[j::width] for j, c in enumerate(self.schema.columns)}
            return self.checked(table, shape[0])
        return self.checked({str(i.get("name")): i["data"] for i in inputs}, shape[0])

    def mlflow_columns(self, body: Any) -> Columns:
        """Raw rows from an MLflow scoring request: ``dataframe_split`` or ``dataframe_records``."""
        if isinstance(body, dict) and isinstance(body.get("dataframe_split"), dict):
            split = body["dataframe_split"]
            columns, data = split.get("columns"), split.get("data")
            if not isinstance(columns, list) or not isinstance(data, list):
                raise BadRequest("dataframe_split needs `columns` and `data` lists")
            if any(not isinstance(r, list) or len(r) != len(columns) for r in data):
                raise BadRequest(f"each row of dataframe_split.data needs {len(columns)} values")
            table = list(zip(*data)) if data else [() for _ in columns]
            return self.checked(dict(zip(map(str, columns), map(list, table))), len(data))
        if isinstance(body, dict) and isinstance(body.get("dataframe_records"), list):
            records = body["dataframe_records"]
            if not all(isinstance(r, dict) for r in records):
                raise BadRequest("dataframe_records must be a list of objects")
            missing = [c for c in self.schema.columns if any(c not in r for r in records)]
            if missing:
                raise BadRequest(f"records lack columns {missing}")
            return self.checked(
                {c: [r[c] for r in records] for c in self.schema.columns}, len(records)
            )
        raise BadRequest("an MLflow request needs `dataframe_split` or `dataframe_records`")
