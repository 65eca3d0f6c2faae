"""Rashomon capacity (Hsu & Calmon, "Rashomon Capacity: A Metric for Predictive Multiplicity in
Classification", NeurIPS 2022).

Per row, the m models' probability vectors form a channel W (m x c) from model index to class;
Rashomon capacity is 2**C with C its Shannon capacity in bits, a number in [1, c]. Two classes use a
closed form; more classes use a certified solver: any input distribution p gives the lower bound
I(p; W) and any output distribution q the upper bound max_x D(W_x || q), and a row is done only
once the two are within ``tol`` bits.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import xlogy

from msmult.metrics.binary import binary_capacity

_LN2 = np.log(2.0)
_TINY = np.finfo(float).tiny
_CHUNK = 1 << 21  # entries of one row chunk (rows x m x c) solved together
_BA_INIT = 20  # Blahut-Arimoto steps before the first support guess
_BA_STEPS = 4  # Blahut-Arimoto steps per round (the globally convergent part)
_NEWTON_STEPS = 5  # active-set Newton steps per round (the fast, exact part)
_MAX_ROUNDS = 500
_NOISE = 1e-12  # nats: I(p) changes below this are rounding, not a worse point
_DEGENERATE = 1e-10  # relative singular value under which the active models are affinely dependent


def rashomon_capacity(scores: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Rashomon capacity of each row (Hsu & Calmon, NeurIPS 2022), in [1, c].

    ``scores`` is (m, n, c): ``scores[i, j]`` is model i's probability vector on row j (each vector
    is renormalised to sum to 1; zeros are fine, 0 log 0 = 0). Returns (n,) values 2**C, C the
    capacity in bits of the channel from model index to class.

    c == 2 is exact by closed form (see ``binary_capacity``). For c > 2 a row is returned only once
    its certified gap, upper minus lower bound on C, is at most ``tol`` bits; the lower bound is
    returned, so the result never overstates C and understates it by at most ``tol`` bits.
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 3 or 0 in s.shape[::2]:
        raise ValueError(f"scores must be (models, rows, classes), got shape {s.shape}")
    if tol <= 0:
        raise ValueError(f"tol must be positive, got {tol}")
    m, n, c = s.shape
    step = max(1, _CHUNK // (m * c))  # row chunks keep temporaries small
    bits = [_capacity_bits(s[:, i : i + step], tol) for i in range(0, n, step)]
    return np.clip(np.exp2(np.concatenate(bits) if bits else np.zeros(0)), 1.0, c)


def _capacity_bits(s: np.ndarray, tol: float) -> np.ndarray:
    """Capacity in bits of each row of a (m, r, c) chunk of scores."""
    m, r, c = s.shape
    total = s @ np.ones(c)  # much faster than s.sum(-1) over a short last axis
    if not np.isfinite(total).all() or (total <= 0).any() or s.min() < 0:
        raise ValueError("scores must be finite, non-negative, with a positive sum per vector")
    if m == 1 or c == 1:
        return np.zeros(r)
    if c == 2:
        p1 = s[..., 1] / total
        return binary_capacity(p1.min(0), p1.max(0))
    bits = _certified_capacity(s, tol)[0]
    bits[(s == s[:1]).all(axis=(0, 2))] = 0.0  # identical models: exactly 1, not 1 + rounding
    return bits


def _certified_capacity(
    scores: np.ndarray, tol: float, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Capacity in bits of each row of (m, r, c) scores, certified to ``tol`` bits, and (r, m)
    input weights whose mutual information is within ``tol`` of it. ``start`` (r, m): input weights
    to start Blahut-Arimoto from (uniform by default), e.g. a smaller nested set's solution.

    Two engines feed the same bounds: Blahut-Arimoto with an adaptive step (p_x <- p_x exp(mu (D_x
    - I)); mu == 1 is the classic, always-ascending step; robust but slow on near-identical models)
    and an active-set Newton method on at most min(m, c) models (a capacity-achieving input never
    needs more), which converges quadratically once its support is right and is restarted from the
    Blahut-Arimoto iterate when it stalls. Rows leave the working set once certified; after
    ``_MAX_ROUNDS`` rounds the rest get their lower bound and a RuntimeWarning with the gap.
    """
    W = np.moveaxis(scores, 0, 1)  # (r, m, c); a new array below, never the caller's
    W = np.ascontiguousarray(W / W.sum(-1, keepdims=True))
    r, m, c = W.shape
    tol_nats = tol * _LN2
    L = xlogy(W, W).sum(-1)  # -H(W_x) in nats
    ba = _BlahutArimoto.start(W, L, start)
    lo, hi = ba.bounds()
    for _ in range(_BA_INIT):
        lo, hi = ba.step(W, L, lo, hi)
    newton = _ActiveSet.seed(ba, min(m, c))
    out, weights = np.empty(r), np.empty((r, m))
    idx = np.arange(r)
    for _ in range(_MAX_ROUNDS):
        done = hi - lo <= tol_nats
        out[idx[done]] = lo[done]
        weights[idx[done]] = _best_weights(ba, newton, m)[done]
        if done.all():
            return out / _LN2, weights
        keep = ~done
        idx, W, L, lo, hi = idx[keep], W[keep], L[keep], lo[keep], hi[keep]
        ba, newton = ba.take(keep), newton.take(keep)
        gap, info = hi - lo, newton.info
        lo, hi = newton.run(W, L, lo, hi, _NEWTON_STEPS)
        for _ in range(_BA_STEPS):
            lo, hi = ba.step(W, L, lo, hi)
        stalled = (hi - lo > gap / 2) & (newton.info <= info + _NOISE)
        if stalled.any():
            newton.reseed(stalled, ba)
    gap = (hi - lo) / _LN2
    warnings.warn(
        f"rashomon_capacity: {idx.size} rows not certified after {_MAX_ROUNDS} rounds; returning "
        f"their lower bounds, max remaining gap {gap.max():.3e} bits (tol {tol:.1e})",
        RuntimeWarning,
        stacklevel=3,
    )
    out[idx] = lo
    weights[idx] = _best_weights(ba, newton, m)
    return out / _LN2, weights


def _best_weights(ba: _BlahutArimoto, newton: _ActiveSet, m: int) -> np.ndarray:
    """(r, m) input weights of whichever engine's last point has the larger information."""
    r = len(ba.info)
    flat = (np.arange(r)[:, None] * m + newton.top).ravel()
    active = np.bincount(flat, newton.p.ravel(), r * m).reshape(r, m)
    return np.where((newton.info >= ba.info)[:, None], active, ba.p())


def _divergences(W: np.ndarray, L: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output q = p W (r, c) and D(W_x || q) in nats (r, k) for W (r, k, c), L = sum W log W."""
    q = np.einsum("rk,rkc->rc", p, W)
    return q, L - np.einsum("rkc,rc->rk", W, np.log(np.maximum(q, _TINY)))


class _BlahutArimoto:
    """Adaptive-step Blahut-Arimoto state (log p, step mu, D(W_x || q), I) for a working set."""

    def __init__(self, logp, mu, D, info):
        self.logp, self.mu, self.D, self.info = logp, mu, D, info

    @classmethod
    def start(cls, W: np.ndarray, L: np.ndarray, p: np.ndarray | None = None) -> _BlahutArimoto:
        r, m, _ = W.shape
        if p is None:
            p, logp = np.full((r, m), 1.0 / m), np.zeros((r, m))
        else:
            p = p / p.sum(1, keepdims=True)
            logp = np.log(p)
        D = _divergences(W, L, p)[1]
        return cls(logp, np.ones(r), D, (p * D).sum(1))

    def take(self, keep: np.ndarray) -> _BlahutArimoto:
        return _BlahutArimoto(self.logp[keep], self.mu[keep], self.D[keep], self.info[keep])

    def p(self) -> np.ndarray:
        p = np.exp(self.logp - self.logp.max(1, keepdims=True))
        return p / p.sum(1, keepdims=True)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.info.copy(), self.D.max(1)

    def step(self, W, L, lo, hi):
        """One update; mu == 1 is the classic step (always an ascent), larger mu is accepted only
        when I does not drop."""
        logp = self.logp + self.mu[:, None] * (self.D - self.info[:, None])
        logp -= logp.max(1, keepdims=True)
        p = np.exp(logp)
        p /= p.sum(1, keepdims=True)
        D = _divergences(W, L, p)[1]
        info = (p * D).sum(1)
        ok = (info >= self.info) | (self.mu == 1)
        self.mu = np.where(ok, self.mu * 2, np.maximum(self.mu / 4, 1))
        self.logp = np.where(ok[:, None], logp, self.logp)
        self.D = np.where(ok[:, None], D, self.D)
        self.info = np.where(ok, info, self.info)
        return np.maximum(lo, info), np.minimum(hi, D.max(1))


class _ActiveSet:
    """Active-set Newton state: per row, K slots holding model ids and their weights (a zero
    weight is a free slot); K grows on demand up to min(m, c), the most a capacity-achieving input
    ever needs."""

    def __init__(self, top, p, info, kmax):
        self.top, self.p, self.kmax = top, p, kmax
        self.info = info  # I at the last evaluated weights

    @classmethod
    def seed(cls, ba: _BlahutArimoto, kmax: int) -> _ActiveSet:
        r = len(ba.info)
        state = cls(np.zeros((r, 1), np.intp), np.zeros((r, 1)), np.full(r, -np.inf), kmax)
        state.reseed(np.ones(r, bool), ba)
        return state

    def take(self, keep: np.ndarray) -> _ActiveSet:
        return _ActiveSet(self.top[keep], self.p[keep], self.info[keep], self.kmax)

    def grow(self, K: int) -> None:
        pad = ((0, 0), (0, max(0, min(K, self.kmax) - self.top.shape[1])))
        self.top, self.p = np.pad(self.top, pad), np.pad(self.p, pad)

    def reseed(self, rows: np.ndarray, ba: _BlahutArimoto) -> None:
        """Restart the chosen rows from the distinct models with D(W_x || q) >= I under the
        Blahut-Arimoto iterate (at the optimum the support is where D is largest), largest D
        first, weighted by its p plus a floor."""
        D, p, info = ba.D[rows], ba.p()[rows], ba.info[rows]
        order = np.argsort(-D, axis=1, kind="stable")
        Ds = np.take_along_axis(D, order, 1)
        use = Ds >= info[:, None]
        use[:, 1:] &= Ds[:, 1:] != Ds[:, :-1]  # exact copies of a model tie exactly in D
        use[:, 0] = True
        count = use.sum(1, keepdims=True)
        self.grow(count.max() + 1)
        pick = np.argsort(~use, axis=1, kind="stable")[:, : self.top.shape[1]]
        top = np.take_along_axis(order, pick, 1)
        pk = (np.take_along_axis(p, top, 1) + 0.1 / count) * np.take_along_axis(use, pick, 1)
        self.top[rows] = top
        self.p[rows] = pk / pk.sum(1, keepdims=True)
        self.info[rows] = -np.inf

    def run(self, W, L, lo, hi, steps):
        """``steps`` iterations; returns the bounds tightened by every evaluated point."""
        r, m, _ = W.shape
        rows = np.arange(r)
        for _ in range(steps):
            Wk, Lk = W[rows[:, None], self.top], L[rows[:, None], self.top]
            flat = (rows[:, None] * m + self.top).ravel()
            q, Df = _divergences(W, L, np.bincount(flat, self.p.ravel(), r * m).reshape(r, m))
            Dk = Df[rows[:, None], self.top]
            self.info = (self.p * Dk).sum(1)
            lo, hi = np.maximum(lo, self.info), np.minimum(hi, Df.max(1))
            act = self.p > 0
            deg = self._improve(Wk, Lk, q, Dk)
            inslot = np.bincount(flat, (self.p > 0).ravel(), r * m).reshape(r, m) > 0
            outside = np.where(inslot, -np.inf, Df)
            j = outside.argmax(1)
            Dj = outside[rows, j]
            enter = Dj > np.where(act, Dk, -np.inf).max(1) + _NOISE
            if enter.any():
                self._enter(W, L, Dk, j, Dj, enter & ~deg)
            self.p /= self.p.sum(1, keepdims=True)
        return lo, hi

    def _improve(self, Wk, Lk, q, Dk) -> np.ndarray:
        """A Newton step on the active models; where it had to be cut short and the active models
        are affinely dependent (numerically: Newton then mostly moves along the null direction),
        a move along a null direction (q unchanged, I linear in the step) until a weight hits
        zero, which frees a slot. Returns the rows that took the latter."""
        act, before = self.p > 0, self.p
        self.p, full = _newton_step(Wk, Lk, q, Dk, self.p, self.info)
        # Newton in p grows a tiny weight only geometrically (I ~ p log(1/p) near 0): where a
        # weight grew tenfold, jump straight to its best mixing weight along its own vertex.
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.where(act, self.p / before, 0.0)
        jump = np.flatnonzero(growth.max(1) > 10)
        if jump.size:
            slot = growth[jump].argmax(1)
            self.p[jump] = _best_mix(Wk[jump], Lk[jump], self.p[jump], slot)
        deg = np.zeros(len(act), bool)
        act = self.p > 0
        stuck = np.flatnonzero(~full & (act.sum(1) > 1))
        if stuck.size:
            null, found = _null_direction(Wk[stuck], act[stuck])
            null *= np.where((null * Dk[stuck]).sum(1) < 0, -1.0, 1.0)[:, None]
            stuck = stuck[found]
            deg[stuck] = True
            self.p[stuck] = _move_to_boundary(self.p[stuck], null[found])
        return deg

    def _enter(self, W, L, Dk, j, Dj, enter) -> None:
        """Model j (largest D(W_x || q) outside the active set, above every active model) enters:
        into a free slot (grown if needed) with the best mixing weight, or, with all c slots
        full, by exchange along the direction that keeps q fixed (one simplex pivot)."""
        r, _, c = W.shape
        free = self.p <= 0
        if (enter & ~free.any(1)).any() and self.top.shape[1] < self.kmax:
            self.grow(self.top.shape[1] + 1)
            free = self.p <= 0
        fill = np.flatnonzero(enter & free.any(1))
        if fill.size:
            slot = free[fill].argmax(1)
            self.top[fill, slot] = j[fill]
            Wk = W[fill[:, None], self.top[fill]]
            self.p[fill] = _best_mix(Wk, L[fill[:, None], self.top[fill]], self.p[fill], slot)
        swap = np.flatnonzero(enter & ~free.any(1)) if self.top.shape[1] == c else []
        if len(swap):
            Wk = W[swap[:, None], self.top[swap]]
            lam = _solve(np.swapaxes(Wk, 1, 2), W[swap, j[swap]])  # W_j = sum_x lam_x W_x
            pk = self.p[swap]
            moved = _move_to_boundary(pk, -lam)
            leaves = (moved == 0) & (pk > 0)
            go = (Dj[swap] > (lam * Dk[swap]).sum(1)) & leaves.any(1)
            swap, slot, moved = swap[go], leaves[go].argmax(1), moved[go]
            t = pk[go, slot] / lam[go, slot]
            moved[np.arange(swap.size), slot] = t
            self.p[swap], self.top[swap, slot] = moved, j[swap]


def _null_direction(Wk: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A unit nu over the active slots with sum_x nu_x W_x = 0 (so sum nu = 0), and whether one
    exists. Inactive slots are given private unit columns so they never enter the null space."""
    r, K, c = Wk.shape
    A = np.concatenate([Wk * act[..., None], np.eye(K) * ~act[:, :, None]], axis=2)
    u, sv, _ = np.linalg.svd(A, full_matrices=False)
    deg = (sv[:, -1] <= _DEGENERATE * sv[:, 0]) & (act.sum(1) > 1)
    return u[:, :, -1] * act, deg


def _move_to_boundary(p: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """p + t * direction with the largest t >= 0 keeping p >= 0; the blocking weight is zeroed."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(direction < 0, -p / direction, np.inf)
    t = ratio.min(1, keepdims=True)
    t = np.where(np.isfinite(t), t, 0.0)
    return np.where(ratio <= t, 0.0, np.maximum(p + t * direction, 0.0))


def _newton_step(Wk, Lk, q, Dk, pk, info, tries: int = 8):
    """One Newton step for max I(p) over the active slots (p > 0), sum p fixed; returns the new
    weights and whether each row took the full (projected) step.

    Gradient of I in nats is D_x - 1, Hessian -sum_y W_xy W_x'y / q_y. Solves the bordered system
    [H 1; 1' 0] [step; lambda] = [-D; 0] on the active slots (scaled for conditioning), then takes
    the first candidate that does not lower I: the projected full step, else the largest step that
    keeps p >= 0, backtracking by 4.
    """
    r, K, _ = Wk.shape
    act = pk > 0
    Wa = Wk * act[..., None]
    H = -np.einsum("rkc,rjc->rkj", Wa / np.maximum(q, _TINY)[:, None, :], Wa)
    scale = np.abs(np.einsum("rkk->rk", H)).max(1) + _TINY
    M = np.zeros((r, K + 1, K + 1))
    M[:, :K, :K] = H / scale[:, None, None] - np.eye(K) * ~act[:, :, None]
    M[:, :K, K] = M[:, K, :K] = act
    rhs = np.zeros((r, K + 1))
    rhs[:, :K] = -Dk * act / scale[:, None]
    step = _solve(M, rhs)[:, :K] * act
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(step < 0, -pk / step, np.inf)
    alpha = np.minimum(1.0, ratio.min(1))
    new, todo = pk.copy(), np.ones(r, bool)
    for k in range(tries + 1):
        tr = np.flatnonzero(todo)
        if k == 0:  # projected full step: every weight driven below zero leaves at once
            cand = np.maximum(pk[tr] + step[tr], 0.0)
        else:  # fraction to the boundary, backtracking: the first blocking weight leaves
            a = alpha[tr, None] / 4 ** (k - 1)
            cand = np.where(ratio[tr] <= a, 0.0, np.maximum(pk[tr] + a * step[tr], 0.0))
        cand /= cand.sum(1, keepdims=True)
        good = (cand * _divergences(Wk[tr], Lk[tr], cand)[1]).sum(1) >= info[tr] - _NOISE
        new[tr[good]] = cand[good]
        todo[tr[good]] = False
        if k == 0:
            full = ~todo
        if not todo.any():
            break
    return new, full


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched A x = b; least squares (pseudo-inverse) for the exactly singular A only."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        regular = np.linalg.slogdet(A)[0] != 0
        x = np.einsum("rij,rj->ri", np.linalg.pinv(A[~regular]), b[~regular])
        out = np.empty_like(b)
        out[~regular] = x
        out[regular] = np.linalg.solve(A[regular], b[regular][..., None])[..., 0]
        return out


def _best_mix(Wk, Lk, pk, slot, iters: int = 30):
    """(1 - t) p + t e_slot with t maximising I, by bisection on log t of the decreasing
    derivative dI/dt = D_slot(q_t) - sum_x p_x D_x(q_t)."""
    r = len(pk)
    rows = np.arange(r)
    e = np.zeros_like(pk)
    e[rows, slot] = 1.0

    def slope(t):
        D = _divergences(Wk, Lk, (1 - t)[:, None] * pk + t[:, None] * e)[1]
        return D[rows, slot] - (pk * D).sum(1)

    lo, hi = np.full(r, -700.0), np.zeros(r)
    for _ in range(iters):
        mid = (lo + hi) / 2
        up = slope(np.exp(mid)) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    t = np.where(slope(np.ones(r)) > 0, 1.0, np.exp(lo))[:, None]
    return (1 - t) * pk + t * e
