"""MAD prediction poisoning (Orekondy, Schiele, Fritz, "Prediction Poisoning: Towards Defenses
Against DNN Model Stealing Attacks", ICLR 2020; reference code tribhuvanesh/prediction-poisoning,
``defenses/victim/bb_mad.py``).

Each answer y is replaced by ỹ within an L1 ball of radius ``epsilon`` around it, chosen to
maximise the angular deviation between the gradients a thief would follow,
``|| G^T ỹ / ||G^T ỹ|| - G^T y / ||G^T y|| ||^2``, where G (c x D) holds the gradient of a proxy
model's negative log-likelihood of each class with respect to its last-layer weights. Heuristic
solver, as in the reference: pick the simplex vertex y* with the largest objective (any one-hot
vector; with ``argmax_preserving`` the uniform vectors over class sets that hold y's top-1 class,
that class upweighted by 1e-5, so the top-1 label never changes), then move along the line
ỹ = (1 - a) y + a y* with a = min(1, epsilon / ||y* - y||_1).

Where msmult differs: (1) with a linear head, G's row k is (s - e_k) h^T (s the proxy's softmax,
h its last hidden layer), so the objective is exactly the squared distance between the unit
vectors of s - ỹ and s - y; msmult computes that closed form for all rows at once instead of a
per-row autograd Jacobian; (2) vertices are scored by that angular objective (the reference's
``objmax=True``; its offline default scores them by the unnormalised ``||G^T (y* - y)||^2``);
(3) the proxy is a randomly initialised model of the attacker's architecture (the run's
``surrogate.module``), seeded from the API's generator (the reference falls back to the victim
itself); (4) the argmax-preserving search is exhaustive and refused above 8 classes (the
reference switches to a greedy search above 10).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from msmult.errors import MsmultError
from msmult.models.torch_classifier import as_tensor
from msmult.oracle.defences.base import Defence
from msmult.validation import Flag, Number

UPWEIGHT = 1e-5  # the reference's tie-break that keeps the top-1 class on top
TINY = 1e-12  # guards the unit vectors when the proxy's prediction equals an answer
MAX_EXHAUSTIVE = 8  # classes: 2**8 - 1 vertex sets per row at most


def unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v, axis=-1, keepdims=True) + TINY)


def angular_deviation(proxy: np.ndarray, answer: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """MAD's objective for a linear-head proxy with softmax ``proxy`` (broadcast over leading
    axes): ``||unit(proxy - answer) - unit(proxy - truth)||^2``, from 0 (same gradient
    direction) to 4 (opposite)."""
    return ((unit(proxy - answer) - unit(proxy - truth)) ** 2).sum(axis=-1)


def vertex_sets(classes: int) -> np.ndarray:
    """(2**classes - 1, classes) indicator rows of every non-empty class set."""
    codes = np.arange(1, 2**classes)[:, None]
    return ((codes >> np.arange(classes)) & 1).astype(np.float64)


def best_vertex(proxy: np.ndarray, truth: np.ndarray, argmax_preserving: bool) -> np.ndarray:
    """(n, c) the vertex y* of each row with the largest angular deviation (with
    ``argmax_preserving``, only vertices whose top-1 class is the truth's)."""
    n, c = truth.shape
    if not argmax_preserving:
        candidates = np.broadcast_to(np.eye(c), (n, c, c))
        allowed = np.ones((n, c), bool)
    else:
        sets = vertex_sets(c)
        top = truth.argmax(axis=1)
        candidates = sets[None] + UPWEIGHT * np.eye(c)[top][:, None, :]
        candidates = candidates / candidates.sum(axis=2, keepdims=True)
        allowed = sets[:, top].T > 0
    scores = angular_deviation(proxy[:, None], candidates, truth[:, None])
    scores = np.where(allowed, scores, -np.inf)
    return candidates[np.arange(n), scores.argmax(axis=1)]


def line_search(truth: np.ndarray, vertex: np.ndarray, epsilon: float) -> np.ndarray:
    """The point of the segment from ``truth`` towards ``vertex`` at L1 distance ``epsilon``
    (the vertex itself when it is closer), the reference's closed-form ``alpha``."""
    distance = np.abs(vertex - truth).sum(axis=1, keepdims=True)
    alpha = np.clip(epsilon / (distance + 1e-7), 0.0, 1.0)
    return truth + alpha * (vertex - truth)


class MAD(Defence):
    """Perturb each answer within L1 distance ``epsilon`` to maximise the angular deviation of a
    randomly initialised proxy's gradient (``proxy``: a module factory ``proxy(input_shape=...,
    n_classes=...)``, built on the first query); ``argmax_preserving`` keeps the top-1 label."""

    needs_inputs = True
    parameters = {
        "epsilon": Number(
            0, what=" (L1 budget of each answer's perturbation, 0 to 2)", example=0.5
        ),
        "argmax_preserving": Flag(),
    }

    def __init__(
        self, proxy: Callable[..., nn.Module], epsilon: float, argmax_preserving: bool
    ) -> None:
        self.set_parameters(epsilon=epsilon, argmax_preserving=argmax_preserving)
        self.proxy = str(getattr(getattr(proxy, "func", proxy), "__name__", proxy))
        self._factory = proxy
        self._model: nn.Module | None = None

    def __call__(
        self, proba: np.ndarray, rng: np.random.Generator, x: np.ndarray | None = None
    ) -> np.ndarray:
        if x is None:
            raise MsmultError("The MAD defence needs the queried rows x (needs_inputs = True).")
        classes = proba.shape[1]
        if self.argmax_preserving and classes > MAX_EXHAUSTIVE:
            raise MsmultError(
                f"api.defences.0.argmax_preserving=true is not allowed with {classes} classes: "
                f"msmult's exhaustive vertex search stops at {MAX_EXHAUSTIVE}; use "
                "argmax_preserving=false."
            )
        vertex = best_vertex(self.proxy_proba(x, classes, rng), proba, self.argmax_preserving)
        return line_search(proba, vertex, self.epsilon)

    def describe(self) -> dict:
        return {**super().describe(), "proxy": self.proxy}

    def proxy_proba(self, x: np.ndarray, classes: int, rng: np.random.Generator) -> np.ndarray:
        """The proxy's softmax on ``x``; the proxy is built (seeded from ``rng``) on first use."""
        if self._model is None:
            with torch.random.fork_rng(devices=[]):  # the CPU generator, restored after
                torch.default_generator.manual_seed(int(rng.integers(2**31)))  # not CUDA's
                self._model = self._factory(input_shape=tuple(x.shape[1:]), n_classes=classes)
            self._model.eval()
        with torch.no_grad():
            logits = self._model(as_tensor(x, torch.device("cpu")))
        return torch.softmax(logits.double(), dim=1).numpy()
