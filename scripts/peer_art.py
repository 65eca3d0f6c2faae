"""msmult's base surrogate beside IBM ART's KnockoffNets (random strategy), at equal budget.

On msmult's own victim (same configs and victim cache as ``msmult run``), attacker pool and
budget, per seed:
- msmult: the configured attack through the prediction API and the base surrogate, exactly as
  ``msmult run`` builds them (``steal`` then ``FidelityHoldout.fit``: with the default
  ``holdout.mode=crossfit`` the base is fitted on every answer plus one model per fold);
- ART 1.20.1: ``KnockoffNets(sampling_strategy="random", use_probability=True)`` querying the same
  victim through its own msmult ``PredictionAPI`` (same budget, counted the same way) and training
  the same architecture (msmult's MLP, ``hidden`` and weight decay from the surrogate config) in
  ART's ``PyTorchClassifier`` with Adam (constant ``--art-lr``, batch ``--art-batch-size``) for
  ``--art-epochs`` epochs on all ``budget`` answers; the defaults (1e-3, 64, 60) are msmult 0.1's
  surrogate training, the reference run of docs/attacks.md.
Fidelity is top-1 agreement with the victim on the test rows, as in msmult's report. The wall
times cover querying and training (msmult's includes its fold models).

Usage (ART is the optional extra ``peer``):
    pip install -e '.[peer]'
    python scripts/peer_art.py --dataset adult --budget 2000 --seeds 0 1 2
    python scripts/peer_art.py --no-art surrogate.epochs=10   # msmult's side only, any override
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from msmult.app import CONFIG_DIR
from msmult.attacks import steal
from msmult.models.mlp import MLP
from msmult.models.victim_cache import fit_victim
from msmult.pipeline import Stages
from msmult.settings import Settings, build


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--art-epochs", type=int, default=60, help="ART's nb_epochs")
    parser.add_argument("--art-batch-size", type=int, default=64, help="ART's batch_size_fit")
    parser.add_argument("--art-lr", type=float, default=1e-3, help="ART's Adam learning rate")
    parser.add_argument("--no-art", action="store_true", help="msmult's side only (no ART)")
    parser.add_argument(
        "overrides", nargs="*", help="msmult config overrides, key=value (before --seeds' list)"
    )
    return parser.parse_args(argv)


def compose_config(args: argparse.Namespace, seed: int) -> DictConfig:
    """``msmult run dataset=... budget=... seed=...`` as Hydra composes it; the victim cache is
    the CLI's (``MSMULT_CACHE_DIR``, else ``outputs/cache`` under the working directory)."""
    cache = os.environ.get("MSMULT_CACHE_DIR", str(Path.cwd() / "outputs" / "cache"))
    overrides = [
        f"dataset={args.dataset}",
        f"budget={args.budget}",
        f"seed={seed}",
        f"cache.dir={cache}",
        *args.overrides,
    ]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=overrides)


def fidelity(proba: np.ndarray, victim_proba: np.ndarray) -> float:
    return float((proba.argmax(axis=1) == victim_proba.argmax(axis=1)).mean())


def msmult_side(cfg: DictConfig) -> dict[str, Any]:
    """Victim, API, attack and base surrogate through the functions ``msmult run`` calls."""
    settings = Settings.from_config(cfg)
    torch.set_num_threads(settings.threads)
    splits = settings.dataset.load(seed=settings.seed)
    stages = Stages.for_data(settings, splits)
    victim, _ = fit_victim(stages.victim, splits, cfg)
    api = stages.api
    start = time.perf_counter()
    theft = steal(settings.attack, api, splits.x_pool, *stages.thief(settings))
    base = settings.holdout.fit(settings.attack, theft, stages.new_surrogate, settings.seed)
    seconds = time.perf_counter() - start
    victim_proba = victim.predict_proba(splits.x_test)
    return {
        "splits": splits,
        "victim": victim,
        "victim_proba": victim_proba,
        "seconds": seconds,
        "fidelity": fidelity(base.surrogate.predict_proba(splits.x_test), victim_proba),
        "queries": api.queries_used,
        "fit_rows": len(base.fit_x),
        "folds": len(base.folds),
    }


def art_side(cfg: DictConfig, mine: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """ART's KnockoffNets (random) on the same victim, pool and budget (imports ART)."""
    from art.attacks.extraction import KnockoffNets
    from art.estimators.classification import BlackBoxClassifier, PyTorchClassifier

    splits = mine["splits"]
    api = build(cfg.api, victim=mine["victim"])
    shape, classes = splits.x_pool.shape[1:], splits.n_classes
    np.random.seed(cfg.seed)  # ART draws its random rows and batches from numpy's global state
    torch.manual_seed(cfg.seed)
    model = MLP(input_shape=shape, n_classes=classes, hidden=tuple(cfg.surrogate.module.hidden))
    optimiser = torch.optim.Adam(
        model.parameters(), lr=args.art_lr, weight_decay=cfg.surrogate.weight_decay
    )
    thief = PyTorchClassifier(
        model,
        loss=torch.nn.CrossEntropyLoss(),
        optimizer=optimiser,
        input_shape=shape,
        nb_classes=classes,
    )
    oracle = BlackBoxClassifier(lambda x: api.as_targets(api.query(x)), shape, classes)
    attack = KnockoffNets(
        oracle,
        batch_size_fit=args.art_batch_size,
        batch_size_query=256,
        nb_epochs=args.art_epochs,
        nb_stolen=api.budget,
        sampling_strategy="random",
        verbose=False,
        use_probability=True,
    )
    start = time.perf_counter()
    stolen = attack.extract(splits.x_pool.astype(np.float32), thieved_classifier=thief)
    seconds = time.perf_counter() - start
    logits = stolen.predict(splits.x_test.astype(np.float32))
    return {
        "fidelity": fidelity(logits, mine["victim_proba"]),
        "seconds": seconds,
        "queries": api.queries_used,
    }


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    print(
        f"{'seed':>4}  {'msmult fid':>10}  {'msmult s':>8}  {'ART fid':>8}  {'ART s':>6}  "
        f"{'queries':>7}  msmult rows"
    )
    rows = []
    for seed in args.seeds:
        cfg = compose_config(args, seed)
        mine = msmult_side(cfg)
        art = None if args.no_art else art_side(cfg, mine, args)
        theirs = f"{art['fidelity']:8.4f}  {art['seconds']:6.1f}" if art else f"{'-':>8}  {'-':>6}"
        queries = f"{mine['queries']}" + (f"/{art['queries']}" if art else "")
        rows_used = f"{mine['fit_rows']} fit, {mine['folds']} folds"
        print(
            f"{seed:>4}  {mine['fidelity']:10.4f}  {mine['seconds']:8.1f}  {theirs}  "
            f"{queries:>7}  {rows_used}",
            flush=True,
        )
        rows.append(
            {
                "seed": seed,
                "msmult": mine["fidelity"],
                "msmult_s": mine["seconds"],
                "art": art and art["fidelity"],
                "art_s": art and art["seconds"],
            }
        )
    return rows


if __name__ == "__main__":
    main()
