"""``report.json``'s dict, built from the typed results of every stage of a run."""

from __future__ import annotations

from dataclasses import dataclass

from msmult.data.splits import Splits
from msmult.rashomon.exploration import Exploration
from msmult.rashomon.per_row import per_row_sections


@dataclass(frozen=True)
class RunRecord:
    """What every stage of one run produced, filled by ``pipeline.run``.

    ``victim_cache``: ``hit | miss | off``; ``api``: the API's own description (``choice``,
    ``mode``, ``k``, ``decimals``, ``defences`` and a short ``label`` encoding them all);
    ``holdout``: how the fidelity holdout was obtained; ``explorer``: the explorer's name as the
    run knows it (e.g. ``dropout``); ``evaluations``: evaluation-set name -> ``evaluate_set``
    result, always with ``test``; ``timing``: seconds per stage; ``calibration``: how epsilon
    was obtained (``msmult.rashomon.calibration.with_epsilon``); ``defender``: the served
    answers' quality on the test rows (``msmult.oracle.defender``); ``budget_curve``: one point
    per ``budget_checkpoints`` entry (``msmult.budget_curve``).
    """

    splits: Splits
    victim_model: str
    victim_cache: str
    api: dict
    attack: str
    budget: int
    queries_used: int
    fit_rows: int
    holdout_rows: int
    holdout: str
    explorer: str
    exploration: Exploration
    evaluations: dict[str, dict]
    seed: int
    timing: dict[str, float]
    calibration: dict | None = None
    defender: dict | None = None
    budget_curve: list[dict] | tuple = ()
    holdout_mode: str = "split"  # or e.g. "crossfit, 5 folds" (msmult.rashomon.crossfit)


def build_report(record: RunRecord) -> dict:
    """The report of a run: setup, victim, API, attack, base surrogate, Rashomon set,
    multiplicity and fairness on the test rows, the second evaluation sets, seed and timing."""
    splits, exploration, test = record.splits, record.exploration, record.evaluations["test"]
    table = test["table"]
    return {
        "dataset": {
            "name": splits.name,
            "classes": splits.n_classes,
            "class_names": list(splits.classes),
            "positive_class": splits.classes[splits.positive_class],
            "sensitive": splits.sensitive,
            "test_rows": int(len(splits.y_test)),
            **splits.info,
        },
        "victim": {"model": record.victim_model, "cache": record.victim_cache, **test["victim"]},
        "api": record.api,
        "attack": {
            "name": record.attack,
            "budget": int(record.budget),
            "queries_used": int(record.queries_used),
            "fit_rows": int(record.fit_rows),
            "holdout_rows": int(record.holdout_rows),
            "holdout": record.holdout,
            "holdout_mode": record.holdout_mode,
        },
        "surrogate": {
            "fidelity": float(table["fidelity"].iloc[0]),
            "accuracy": float(table["accuracy"].iloc[0]),
            "loss": exploration.base_loss,
        },
        "rashomon": {
            "explorer": record.explorer,
            "epsilon": float(exploration.epsilon),
            "candidates": int(len(table)),
            "base_loss": exploration.base_loss,
            "epsilon_source": record.calibration or {"source": "config"},
            **test["members"],
        },
        "multiplicity": test["multiplicity"],
        "fairness": test["fairness"],
        "extra_eval": {
            name: summarise_extra(result)
            for name, result in record.evaluations.items()
            if name != "test"
        },
        "seed": int(record.seed),
        "timing": dict(record.timing),
        **({"defender": record.defender} if record.defender else {}),
        **({"budget_curve": list(record.budget_curve)} if record.budget_curve else {}),
        **{key: test[key] for key in ("verdict", "comparison") if test.get(key) is not None},
        **per_row_sections(test),  # rashomon=awp: per-row metrics replace set-level ones
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
