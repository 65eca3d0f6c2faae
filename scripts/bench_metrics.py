"""Benchmark msmult.metrics.

1. Rashomon capacity against a straightforward per-row textbook Blahut-Arimoto loop (stop when the
   mean squared change of p is below 1e-12 or after 1000 iterations) on near-identical models,
   softmax(base + 0.3 * noise): time, speed-up and the largest difference in C (bits).
2. Every metric on a pipeline-sized problem (default 1,000 models x 16,281 rows x 2 classes).

Usage: python scripts/bench_metrics.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from msmult.metrics import (
    ambiguity,
    discrepancy,
    fairness_gaps_many,
    pairwise_disagreement,
    rashomon_capacity,
    score_variance,
    viable_prediction_range,
)


def near_identical(m: int, n: int, c: int, rng: np.random.Generator) -> np.ndarray:
    """(m, n, c) softmax(base + 0.3 * noise): every model a small perturbation of one base."""
    z = rng.normal(size=(n, c)) + 0.3 * rng.normal(size=(m, n, c))
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def textbook_capacity(scores: np.ndarray) -> np.ndarray:
    """Capacity in bits, row by row, by the textbook Blahut-Arimoto loop."""
    out = np.empty(scores.shape[1])
    for j in range(scores.shape[1]):
        W = scores[:, j]
        p = np.full(W.shape[0], 1.0 / W.shape[0])
        for _ in range(1000):
            q = p @ W
            D = np.where(W > 0, W * np.log(np.where(W > 0, W, 1.0) / q), 0.0).sum(1)
            new = p * np.exp(D)
            new /= new.sum()
            converged = np.mean((new - p) ** 2) < 1e-12
            p = new
            if converged:
                break
        q = p @ W
        D = np.where(W > 0, W * np.log(np.where(W > 0, W, 1.0) / q), 0.0).sum(1)
        out[j] = p @ D / np.log(2)
    return out


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def bench_capacity(m: int, n: int, rng: np.random.Generator) -> None:
    print(f"\nRashomon capacity vs textbook Blahut-Arimoto: {m} near-identical models x {n} rows")
    print("C in bits; dC = C_msmult - C_textbook (>= 0: the textbook loop under-estimates)")
    print(
        f"{'classes':>7} {'textbook s':>11} {'msmult s':>9} {'speed-up':>9} "
        f"{'max|dC|':>9} {'min dC':>10}"
    )
    for c in (2, 10):
        scores = near_identical(m, n, c, rng)
        slow, t_slow = timed(textbook_capacity, scores)
        fast, t_fast = timed(rashomon_capacity, scores)
        diff = np.log2(fast) - slow
        print(
            f"{c:>7} {t_slow:>11.2f} {t_fast:>9.4f} {t_slow / t_fast:>8.0f}x "
            f"{np.abs(diff).max():>9.2e} {diff.min():>10.2e}"
        )


def bench_all(m: int, n: int, rng: np.random.Generator) -> None:
    print(f"\nAll metrics: {m} models x {n} rows x 2 classes")
    scores = near_identical(m, n, 2, rng)
    decisions = scores.argmax(-1)
    labels = rng.integers(0, 2, n)
    victim = decisions[0]
    group = rng.choice(np.array(["female", "male", ""]), n, p=[0.45, 0.5, 0.05])
    steps = [
        ("ambiguity", ambiguity, decisions, victim),
        ("discrepancy", discrepancy, decisions, victim),
        ("rashomon_capacity", rashomon_capacity, scores),
        ("viable_prediction_range", viable_prediction_range, scores, labels),
        ("score_variance", score_variance, scores, labels),
        ("pairwise_disagreement", pairwise_disagreement, decisions),
        ("fairness_gaps_many", fairness_gaps_many, labels, decisions, group),
    ]
    total = 0.0
    for name, fn, *args in steps:
        _, seconds = timed(fn, *args)
        total += seconds
        print(f"{name:>24} {seconds:>8.3f} s")
    print(f"{'total':>24} {total:>8.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems, for a smoke run")
    args = parser.parse_args()
    print(f"cores (os.cpu_count()): {os.cpu_count()}")
    rng = np.random.default_rng(0)
    bench_capacity(100, 200 if args.quick else 2000, rng)
    bench_all(*((100, 2000) if args.quick else (1000, 16281)), rng)


if __name__ == "__main__":
    main()
