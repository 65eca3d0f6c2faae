"""The yardstick's settings are checked before the data loads: each bad value is refused with one
paragraph naming its key and what is allowed."""

import pytest
from hydra import compose, initialize_config_dir

from msmult.app import CONFIG_DIR
from msmult.errors import MsmultError
from msmult.settings import Settings


def settings(*overrides: str) -> Settings:
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return Settings.from_config(compose("config", ["cache.dir=unused", *overrides]))


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["owner.models=1"], "owner.models=1 is not allowed"),
        (["owner.models=-2"], "owner.models=-2 is not allowed"),
        (["owner.models=0"], "verdict.tolerances='owner' is not allowed"),
        (["verdict.owner_quantile=1.5"], "verdict.owner_quantile=1.5 is not allowed"),
        (["verdict.owner_quantile=-0.1"], "verdict.owner_quantile=-0.1 is not allowed"),
        (["verdict.tolerances=median"], "verdict.tolerances='median' is not allowed"),
        (["verdict.target=0"], "verdict.target=0 is not allowed"),
        (["verdict.target=1.5"], "verdict.target=1.5 is not allowed"),
        (["verdict.budget_to_equivalence=true"], "budget_checkpoints=[] is not allowed"),
        (["budget_checkpoints=[5,1000]"], "budget_checkpoints=[5, 1000] is not allowed"),
        (
            ["verdict.budget_to_equivalence=true", "budget_checkpoints=[500]", "rashomon=dropout"],
            "rashomon='dropout' is not allowed",
        ),
        (["membership.epsilon=-1"], "membership.epsilon=-1 is not allowed"),
        (["membership.calibration_models=1"], "membership.calibration_models=1 is not allowed"),
        (["holdout.share=1.0"], "holdout.share=1.0 is not allowed"),
    ],
)
def test_a_bad_yardstick_or_membership_value_is_refused_with_its_key(overrides, key):
    with pytest.raises(MsmultError) as refused:
        settings(*overrides)
    message = str(refused.value)
    assert message.startswith(key) and "\n" not in message


def test_the_smallest_checkpoint_is_named_when_one_is_too_small():
    # 12 queries: 12 - round(0.2 * 12) = 10 fit rows, the least a checkpoint may leave
    with pytest.raises(MsmultError, match="the smallest checkpoint is 12,"):
        settings("budget_checkpoints=[5,1000]")


def test_the_default_config_and_the_paper_experiment_are_accepted():
    default, paper = settings(), settings("experiment=paper")
    assert (default.verdict.tolerances, default.owner_models, default.membership.epsilon) == (
        "owner",
        10,
        "auto",
    )
    assert (paper.verdict.tolerances, paper.owner_models, paper.membership.epsilon) == (
        "fixed",
        0,
        0.02,
    )
    assert paper.explorer_name == "dropout"
