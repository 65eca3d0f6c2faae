"""Bad input: one clear paragraph, non-zero exit, no traceback, and no report written."""

import pytest
from conftest import assert_refused

pytestmark = pytest.mark.e2e

CASES = [
    (("dataset=nosuch",), "dataset"),
    (("budget=0",), "budget=0"),
    (("budget=-5",), "budget=-5"),
    (("budget=12.5",), "budget=12.5"),
    (("budget=lots",), "budget='lots'"),
    (("budget=20000",), "larger than the attacker pool"),
    (("rashomon.epsilon=-0.1",), "epsilon=-0.1"),
    (("seed=-1",), "seed=-1"),
    (("fidelity_holdout=1.5",), "fidelity_holdout=1.5"),
    (("device=tpu",), "device='tpu'"),
    (
        (
            "dataset=csv",
            "dataset.path=/nonexistent/file.csv",
            "dataset.target=y",
            "dataset.sensitive=g",
        ),
        "does not exist",
    ),
    (("dataset=compas", "dataset.sensitive=nope"), "dataset.sensitive='nope' is not allowed"),
]


@pytest.mark.parametrize(("overrides", "message"), CASES, ids=lambda c: str(c))
def test_bad_input_is_reported_cleanly(msmult_run, overrides, message):
    assert_refused(*msmult_run(*overrides), message)


def test_single_group_csv(msmult_run, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("x,y,g\n" + "".join(f"{i},{i % 2},same\n" for i in range(50)))
    process, run_dir = msmult_run(
        "dataset=csv", f"dataset.path={path}", "dataset.target=y", "dataset.sensitive=g"
    )
    assert_refused(process, run_dir, "has a single group")
