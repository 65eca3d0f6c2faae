"""Fit a scikit-learn pipeline on Adult's raw columns and write an MLServer model folder for it.

    python scripts/mlserver_victim.py FOLDER [--port 8080]

The pipeline (impute, one-hot / standardise, logistic regression) is trained on the victim split
of ``msmult run dataset=adult seed=0`` in the raw columns msmult sends (``victim=remote``); its
folder holds ``model.joblib``, ``model-settings.json`` (MLServer's scikit-learn runtime,
``mlserver_sklearn.SKLearnModel``, answering ``predict_proba``) and ``settings.json`` (HTTP port;
gRPC and metrics off). ``scripts/serve_mlserver.sh`` runs it; docs/remote.md shows the steal.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import joblib
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from msmult.data.adult import AdultDataset


def fit_pipeline(seed: int = 0):
    """The pipeline fitted on Adult's victim split, and its raw input columns."""
    splits = AdultDataset().load(seed=seed)
    raw = splits.raw
    columns = list(raw.features)
    numeric = [c for c in columns if raw.numeric(c)]
    text = [c for c in columns if c not in numeric]
    rows = raw.victim[columns].astype({c: object for c in text})  # as MLServer decodes BYTES
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                (
                    "numbers",
                    make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                    numeric,
                ),
                (
                    "text",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    text,
                ),
            ]
        ),
        LogisticRegression(max_iter=1000),
    )
    return pipeline.fit(rows, np.asarray(splits.classes)[splits.y_victim]), columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    pipeline, columns = fit_pipeline()
    joblib.dump(pipeline, args.folder / "model.joblib")
    settings = {
        "name": "victim",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
    }
    (args.folder / "model-settings.json").write_text(json.dumps(settings, indent=2))
    server = {
        "host": "127.0.0.1",
        "http_port": args.port,
        "grpc_port": 0,
        "metrics_port": 0,
        "metrics_endpoint": None,
        "parallel_workers": 0,  # inference in the server process (no worker pool)
    }
    (args.folder / "settings.json").write_text(json.dumps(server, indent=2))
    print(f"MLServer folder {args.folder}: victim over {columns}")


if __name__ == "__main__":
    main()
