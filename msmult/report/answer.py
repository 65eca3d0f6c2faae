"""The run's answer to "if someone steals my model, what do they get?", one sentence per lens: the
first lines of report.md and of the console summary (``report.json`` ``answer``).

- the paper's lens: the dropout set around the base surrogate;
- the thieves' lens: surrogates other thieves would have fitted (bootstrap resamples, retrains);
- the owner's yardstick: the victim retrained by its owner on its own rows with other seeds.
Each lens sentence reads its members against the yardstick: the probability that a member is at
least as close to the victim as an owner's retrain (on agreement, ties half) and how many members
lie within the owner's envelope; without a yardstick, the fixed-tolerance verdict.
"""

from __future__ import annotations

from msmult.report.schema import Report

LENS_NAMES = {
    "dropout": "The paper's lens (dropout set around the base surrogate)",
    "bootstrap": "The thieves' lens (surrogates refitted on bootstrap resamples of the answers)",
    "retrain": "The thieves' lens (surrogates retrained on the answers with other seeds)",
}


def lens_name(lens: str) -> str:
    return LENS_NAMES.get(lens, f"The {lens} lens")


def interval(entry: dict) -> str:
    return f"{entry['estimate']:.2f} (95% CI {entry['low']:.2f}-{entry['high']:.2f})"


def passed(share: dict, owner: bool) -> str:
    where = "lie within the owner's envelope" if owner else "pass the fixed tolerances"
    return (
        f"{share['passed']} of {share['members']} members ({share['share']:.2f}, 95% CI "
        f"{share['low']:.2f}-{share['high']:.2f}) {where}"
    )


def lens_sentence(lens: str, report: dict) -> str:
    verdict = report["verdict"]
    share = (verdict.get("explorers") or {}).get(lens, verdict)
    owner = verdict["tolerances"]["mode"] == "owner"
    yardstick = (report.get("yardstick") or {}).get(lens)
    if yardstick is None:
        return f"{lens_name(lens)}: {passed(share, owner)}."
    closer = yardstick["superiority"]["disagreement"]
    return (
        f"{lens_name(lens)}: a member is at least as close to the victim as the owner's own "
        f"retrain (agreement) in {interval(closer)} of pairs; {passed(share, owner)}."
    )


def owner_sentence(owner: dict) -> str:
    if not owner.get("models"):
        return f"The owner's yardstick is off: {owner.get('note') or 'owner.models=0'}"
    agreement, distance = owner["agreement"], owner["distances"]["probability_distance"]
    sentence = (
        f"The owner's yardstick ({owner['models']} retrains of the victim on its own rows): "
        f"agreement with the victim {agreement['min']:.3f}-{agreement['max']:.3f}, probability "
        f"distance {distance['min']:.3f}-{distance['max']:.3f}, ambiguity over the retrains "
        f"{owner['ambiguity_vs_victim']:.3f}."
    )
    return f"{sentence} {owner['note']}" if owner.get("note") else sentence


def answer(report: Report) -> list[str]:
    """One sentence per lens, then the owner's yardstick (nothing for a per-row explorer)."""
    if "per_row" in report:
        return []
    verdict = report["verdict"]
    lenses = list(verdict.get("explorers") or [report["rashomon"]["explorer"]])
    sentences = [lens_sentence(lens, report) for lens in lenses]
    if "owner" in report:
        sentences.append(owner_sentence(report["owner"]))
    return sentences
