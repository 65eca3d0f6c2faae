"""``msmult.audit`` on a scikit-learn pipeline over Adult's raw columns: the same pipeline as
``msmult run``, from Python, with its output folder."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import msmult
from msmult.data.adult import AdultDataset
from msmult.errors import MsmultError

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def adult():
    """Adult's raw rows (victim / pool / test), labels and groups, and a fitted pipeline."""
    splits = AdultDataset().load(seed=0)
    raw, columns, classes = splits.raw, list(splits.raw.features), np.asarray(splits.classes)
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", StandardScaler(), make_column_selector(dtype_include="number")),
                (
                    "text",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    make_column_selector(dtype_exclude="number"),
                ),
            ]
        ),
        LogisticRegression(max_iter=300),
    ).fit(raw.victim[columns], classes[splits.y_victim])
    test = raw.test[columns].iloc[:3000]
    labels, groups = classes[splits.y_test[:3000]], splits.group_test[:3000]
    return pipeline, raw.pool[columns], test, labels, groups


def test_audit_runs_the_pipeline_on_a_model_in_memory_and_writes_the_run_folder(adult, tmp_path):
    pipeline, pool, test, labels, groups = adult
    report = msmult.audit(
        victim=pipeline,
        pool=pool,
        test=test,
        labels=labels,
        groups=groups,
        sensitive="sex",
        overrides=["budget=300", "debug=fast", f"cache.dir={tmp_path / 'cache'}"],
        output_dir=tmp_path / "run",
    )
    assert report == json.loads((tmp_path / "run" / "report.json").read_text())
    truth = pipeline.predict_proba(test)
    assert report["victim"]["accuracy"] == pytest.approx((pipeline.predict(test) == labels).mean())
    predictions = pd.read_parquet(tmp_path / "run" / "predictions.parquet")
    np.testing.assert_allclose(predictions["victim:p_>50K"], truth[:, 1].astype(np.float32))
    assert report["attack"]["queries_used"] == 300
    assert report["dataset"]["sensitive"] == "sex" and report["dataset"]["test_rows"] == 3000
    assert {"config.yaml", "report.md", "surrogates.csv"} <= {
        p.name for p in (tmp_path / "run").iterdir()
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"victim": object()}, "needs a victim with predict_proba"),
        ({"overrides": ["dataset=compas"]}, "drop 'dataset=compas'"),
        ({"labels": ["<=50K"]}, "got 1 labels and 3000 groups for 3000 test rows"),
        ({"classes": ["no", "yes"]}, "labels ['<=50K', '>50K'] are not among the classes"),
    ],
)
def test_audit_refuses_bad_input_in_one_paragraph(adult, tmp_path, change, message):
    pipeline, pool, test, labels, groups = adult
    arguments = dict(victim=pipeline, pool=pool, test=test, labels=labels, groups=groups)
    with pytest.raises(MsmultError, match=message.replace("[", r"\[").replace("(", r"\(")):
        msmult.audit(**{**arguments, **change}, output_dir=tmp_path / "run")
