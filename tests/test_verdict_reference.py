"""The verdict and the yardstick judge a set against the victim, never against the base
surrogate: a set whose members copy the base surrogate, far from the victim, fails."""

import numpy as np
import pandas as pd

from msmult.analysis.evaluation import Evaluation, Scoring
from msmult.data.splits import Splits
from msmult.metrics.verdict import Verdict
from msmult.models.owner_retrains import OwnerRetrains
from msmult.rashomon.exploration import Exploration

N = 400
RNG = np.random.default_rng(0)
Y = RNG.integers(0, 2, N)
GROUP = np.where(RNG.random(N) < 0.5, "a", "b")
VICTIM = np.stack([1 - Y * 0.9 - 0.05, Y * 0.9 + 0.05], axis=1)  # right on every row
BASE = VICTIM[:, ::-1].copy()  # the base surrogate disagrees with the victim on every row


class Fixed:
    """A fitted model that answers ``proba`` on the test rows."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.proba


def splits() -> Splits:
    x = np.zeros((N, 1), np.float32)
    return Splits("toy", x, Y, x, x, Y, GROUP, ("no", "yes"), "group", 1)


def evaluation(tolerances: str) -> Evaluation:
    members = np.stack([BASE, BASE, BASE]).astype(np.float32)  # the base and two copies of it
    exploration = Exploration(
        pd.DataFrame({"kind": ["base", "copy", "copy"]}),
        np.array([0.3, 0.3, 0.3]),
        {"test": members},
        epsilon=0.01,
    )
    near = VICTIM.copy()
    near[:4] = near[:4, ::-1]  # the owner's retrains differ from the victim on a few rows
    retrains = OwnerRetrains([Fixed(VICTIM), Fixed(near)], [1, 2], "off")
    scoring = Scoring(Verdict(tolerances=tolerances), "dropout", 0, 1e-9)
    return Evaluation.of(exploration, splits(), Fixed(VICTIM), VICTIM, retrains, scoring)


def test_members_far_from_the_victim_fail_though_they_equal_the_base_surrogate():
    for tolerances in ("owner", "fixed"):
        result = evaluation(tolerances)
        assert result.verdict["members"] == 3 and result.verdict["passed"] == 0
        assert not result.test["table"]["passes"].any()


def test_members_are_never_closer_than_the_owners_retrains_when_they_copy_the_base():
    closer = evaluation("owner").yardstick["dropout"]["superiority"]["disagreement"]
    assert closer["estimate"] == 0.0  # disagreement 1.0 against the owner's 0.0 and 0.01
