"""``report.json``'s dict, built from the typed results of every stage of a run (its keys:
``msmult.report.schema``)."""

from __future__ import annotations

from dataclasses import dataclass

from msmult.analysis.evaluation import Evaluation
from msmult.attacks.stealing import Theft
from msmult.data.splits import Splits
from msmult.rashomon.exploration import Exploration
from msmult.report.answer import answer
from msmult.report.schema import Report


@dataclass(frozen=True)
class RunRecord:
    """What every stage of one run produced, filled by ``pipeline.run``.

    ``setup`` (``pipeline.Stages.setup``): ``victim_model``, ``victim_cache`` (``hit | miss |
    off``), ``api`` (the API's own description: ``choice``, ``mode``, ``k``, ``decimals``,
    ``defences`` and a short ``label``), ``attack``, ``budget``, ``queries_used``,
    ``holdout_mode`` (``split`` or ``crossfit, K folds``), ``epsilon_source`` (how epsilon was
    obtained, ``Membership.resolve``), ``explorer`` (its name as the run knows it) and ``seed``;
    ``theft``: the attack's transfer set and fidelity holdout; ``evaluation``: everything scored;
    ``defender``: the served answers' quality on the test rows; ``extras``: optional sections
    (``remote``, ``extremes``, ``budget_curve``, ``budget_to_equivalence``); ``timing``: seconds
    per stage.
    """

    splits: Splits
    setup: dict
    theft: Theft
    exploration: Exploration
    evaluation: Evaluation
    defender: dict | None
    extras: dict
    timing: dict[str, float]


def build_report(record: RunRecord) -> Report:
    """The report of a run: the answer in one sentence per lens, then setup, victim, owner, API,
    attack, base surrogate, Rashomon set, multiplicity and fairness on the test rows, the verdict
    and the yardstick, second evaluation sets, seed and timing."""
    splits, exploration, evaluation = record.splits, record.exploration, record.evaluation
    setup, test = record.setup, evaluation.test
    table = test["table"]
    report = {
        "dataset": {
            "name": splits.name,
            "classes": splits.n_classes,
            "class_names": list(splits.classes),
            "positive_class": splits.classes[splits.positive_class],
            "sensitive": splits.sensitive,
            "test_rows": int(len(splits.y_test)),
            **splits.info,
        },
        "victim": {
            "model": setup["victim_model"],
            "cache": setup["victim_cache"],
            **test["victim"],
        },
        "api": setup["api"],
        "attack": {
            "name": setup["attack"],
            "budget": int(setup["budget"]),
            "queries_used": int(setup["queries_used"]),
            "fit_rows": int(len(record.theft.fit.x)),
            "holdout_rows": int(len(record.theft.holdout.x)),
            "holdout": record.theft.holdout_source,
            "holdout_mode": setup["holdout_mode"],
        },
        "surrogate": {
            "fidelity": float(table["fidelity"].iloc[0]),
            "accuracy": float(table["accuracy"].iloc[0]),
            "loss": exploration.base_loss,
        },
        "rashomon": {
            "explorer": setup["explorer"],
            "epsilon": float(exploration.epsilon),
            "candidates": int(len(table)),
            "base_loss": exploration.base_loss,
            "epsilon_source": setup["epsilon_source"],
            **test["members"],
        },
        "multiplicity": test["multiplicity"],
        "fairness": test["fairness"],
        "verdict": evaluation.verdict,
        **({"comparison": evaluation.comparison} if evaluation.comparison else {}),
        **({"owner": evaluation.owner.as_report()} if evaluation.owner else {}),
        **({"yardstick": evaluation.yardstick} if evaluation.yardstick else {}),
        "extra_eval": {
            name: summarise_extra(result)
            for name, result in evaluation.sets.items()
            if name != "test"
        },
        "seed": int(setup["seed"]),
        "timing": dict(record.timing),
        **({"defender": record.defender} if record.defender else {}),
        **record.extras,
        **per_row_sections(evaluation.per_row),
    }
    if evaluation.owner is None and evaluation.owner_note:
        report["owner"] = {"models": 0, "note": evaluation.owner_note}
    return {"answer": answer(report), **report}


def per_row_sections(per_row: dict | None) -> dict:
    """report.json sections replacing the set-level multiplicity of a per-row exploration: the
    set holds only the base surrogate, so no set-level number is reported."""
    if per_row is None:
        return {}
    note = (
        "per-row search: each sampled row has its own reachable models, so only per-row "
        "metrics are reported (see per_row); set-level metrics do not apply"
    )
    return {
        "multiplicity": {"set_size": 1, "per_row_only": True, "note": note, "epsilon_curve": []},
        "per_row": per_row,
    }


def summarise_extra(result: dict) -> dict:
    """The compact report entry for a second evaluation set (e.g. HateCheck)."""
    table = result["table"]
    multiplicity = result["multiplicity"]
    return {
        "victim_accuracy": result["victim"]["accuracy"],
        "fidelity": {"base": float(table["fidelity"].iloc[0]), **result["members"]["fidelity"]},
        "ambiguity_vs_victim": multiplicity["ambiguity_vs_victim"],
        "rashomon_capacity_mean": multiplicity["rashomon_capacity_mean"],
        "fairness": result["fairness"],
        "rows": int(len(result["capacity"])),
        "members": int(table["in_set"].sum()),
    }
