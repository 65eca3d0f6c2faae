"""Sending chosen rows to the prediction API in batches, with a progress bar."""

from __future__ import annotations

import numpy as np

from msmult.attacks.transfer_set import TransferSet
from msmult.oracle import PredictionAPI
from msmult.progress import progress_bar


def query_all(api: PredictionAPI, x: np.ndarray, attack: str, batch_size: int = 256) -> TransferSet:
    """Query every row of ``x`` (batch by batch): one round of rows with the API's answers."""
    targets = []
    with progress_bar(f"querying API ({attack})", len(x)) as advance:
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size]
            targets.append(api.as_targets(api.query(batch)))
            advance(len(batch))
    answers = np.concatenate(targets) if targets else np.empty((0, api.n_classes), np.float32)
    return TransferSet(x, answers, api.queries_used, attack)
