"""Hybrid deployments: enough self-hosted replicas for the base load, the overflow to today's API.

A fleet of `n` replicas serves `C = n x c` requests a minute, `c` being one replica's capacity under
the latency targets at the utilisation target (planner.capacity). The segment's per-minute arrival
histogram (`segments.minute_histogram`: how many minutes saw k arrivals, idle minutes included) gives
the requests above that capacity exactly, without per-row data:

    overflow(C) = sum over minutes of max(0, v x k - C)        (v: the volume multiplier)

Tokens overflow pro rata with the segment's mean shape, so the overflow's API cost is its share of
today's bill. The monthly cost of `n` replicas is

    n x (GPU rent + node observability) + labour + fixed observability
      + API bill x [share(n) + p_down(n) x (share(n - 1) - share(n))]

where `p_down(n) = 1 - (1 - f)^n` is the time one of the replicas is down or draining
(`operations.api_fallback_share` per replica): its share of the load overflows to the API then, which
is why a hybrid fleet needs no spare replica.

Without the failover term the cost is convex in the fleet's capacity and its minimum is the
newsvendor point: the smallest arrival level whose count of busier minutes is at most
`v x g x A / (c x R)` (g: a replica's monthly cost, A: arrivals, R: the API bill). The best fleet is one
of the whole replica counts around that level; the failover term is added to each candidate. All of
it is a few `searchsorted` look-ups over every (segment, deployment) pair at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

MINUTES_PER_HOUR = 60.0


def parse_histogram(v: Any) -> np.ndarray | None:
    """`minute_histogram` as an (n, 2) array of (arrivals per minute, minutes), arrivals ascending and
    distinct, minutes > 0. Accepts a list of {arrivals|k|requests, minutes|count|n} structs, a map
    {k: minutes}, [[k, minutes], ...] or the same as JSON text; None when absent or unreadable."""
    if v is None:
        return None
    try:
        if isinstance(v, str):
            v = json.loads(v)
        if isinstance(v, dict):
            pairs = [(float(k), float(c)) for k, c in v.items()]
        else:
            pairs = []
            for item in v:
                if isinstance(item, dict):
                    k = item.get("arrivals", item.get("k", item.get("requests")))
                    c = item.get("minutes", item.get("count", item.get("n")))
                    if k is None or c is None:
                        return None
                    pairs.append((float(k), float(c)))
                else:
                    pairs.append((float(item[0]), float(item[1])))
    except (TypeError, ValueError, KeyError, IndexError, json.JSONDecodeError):
        return None
    if not pairs:
        return None
    arr = np.array(pairs, dtype=float)
    arr = arr[(arr[:, 1] > 0) & (arr[:, 0] >= 0) & np.isfinite(arr).all(axis=1)]
    if not len(arr) or arr[:, 1].sum() <= 0:
        return None
    keys, inverse = np.unique(arr[:, 0], return_inverse=True)
    minutes = np.bincount(inverse, weights=arr[:, 1])
    return np.column_stack([keys, minutes])


@dataclass
class Profiles:
    """The arrival histograms of S segments flattened into sorted arrays, for vectorised look-ups.

    Segment s owns entries start[s] .. end[s]-1 (arrivals ascending); `key` = s x stride + arrivals
    ascends over the whole array, so one `searchsorted` answers a query for every segment at once."""

    k: np.ndarray            # (N,) arrivals per minute
    key: np.ndarray          # (N,) s x stride + k
    cum_m: np.ndarray        # (N + 1,) prefix sums of minutes
    cum_km: np.ndarray       # (N + 1,) prefix sums of arrivals x minutes
    start: np.ndarray        # (S,)
    end: np.ndarray          # (S,)
    stride: float
    minutes: np.ndarray      # (S,) minutes in the span
    arrivals: np.ndarray     # (S,) arrivals on the minute grid
    kmax: np.ndarray         # (S,) the busiest minute
    known: np.ndarray        # (S,) a usable histogram exists

    @classmethod
    def build(cls, histograms: list[np.ndarray | None]) -> Profiles:
        s_n = len(histograms)
        sizes = np.array([0 if h is None else len(h) for h in histograms], dtype=np.int64)
        end = np.cumsum(sizes)
        start = end - sizes
        parts = [h for h in histograms if h is not None]
        flat = np.concatenate(parts) if parts else np.zeros((0, 2))
        k, m = flat[:, 0], flat[:, 1]
        kmax = np.zeros(s_n)
        known = sizes > 0
        if len(k):
            seg = np.repeat(np.arange(s_n), sizes)
            np.maximum.at(kmax, seg, k)
        else:
            seg = np.zeros(0, dtype=np.int64)
        stride = float(kmax.max(initial=0.0)) + 2.0
        cum_m = np.concatenate([[0.0], np.cumsum(m)])
        cum_km = np.concatenate([[0.0], np.cumsum(k * m)])
        minutes = cum_m[end] - cum_m[start]
        arrivals = cum_km[end] - cum_km[start]
        known &= arrivals > 0
        return cls(k=k, key=seg * stride + k, cum_m=cum_m, cum_km=cum_km, start=start, end=end, stride=stride,
                   minutes=minutes, arrivals=arrivals, kmax=kmax, known=known)

    def tails(self, seg: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sum of k x minutes, sum of minutes) over the minutes with more than `level` arrivals."""
        level = np.clip(level, 0.0, self.stride - 1.0)
        pos = np.searchsorted(self.key, seg * self.stride + level, side="right")
        lo, hi = self.start[seg], self.end[seg]
        pos = np.clip(pos, lo, hi)
        return self.cum_km[hi] - self.cum_km[pos], self.cum_m[hi] - self.cum_m[pos]

    def share(self, seg: np.ndarray, level: np.ndarray) -> np.ndarray:
        """Share of the arrivals above `level` per minute: sum max(0, k - level) x minutes / arrivals."""
        t1, t0 = self.tails(seg, level)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (t1 - np.maximum(level, 0.0) * t0) / self.arrivals[seg]
        return np.where(self.known[seg], np.clip(out, 0.0, 1.0), np.nan)

    def minutes_share(self, seg: np.ndarray, level: np.ndarray) -> np.ndarray:
        """Share of the span's minutes with more than `level` arrivals."""
        _, t0 = self.tails(seg, level)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.known[seg], t0 / self.minutes[seg], np.nan)

    def newsvendor_level(self, seg: np.ndarray, busier_minutes: np.ndarray) -> np.ndarray:
        """The smallest arrival level (0 or a histogram value) with at most `busier_minutes` minutes above it."""
        lo, hi = self.start[seg], self.end[seg]
        target = self.cum_m[hi] - np.maximum(busier_minutes, 0.0)
        j = np.searchsorted(self.cum_m, target, side="left")
        j = np.clip(j, lo, hi)
        idx = np.clip(j - 1, 0, max(len(self.k) - 1, 0))
        k = self.k[idx] if len(self.k) else np.zeros_like(target)
        return np.where(j <= lo, 0.0, k)


@dataclass
class Fleet:
    """The cheapest hybrid fleet per (segment, deployment); arrays broadcast to (S, K)."""

    total: np.ndarray          # monthly cost (inf where infeasible)
    replicas: np.ndarray       # n
    share: np.ndarray          # overflow share with every replica up
    failover_share: np.ndarray  # extra share sent to the API while a replica is down
    gpu: np.ndarray            # GPU rent
    obs: np.ndarray            # observability (nodes + fixed)
    labor: np.ndarray
    api: np.ndarray            # overflow + failover API cost
    capacity_per_minute: np.ndarray  # the fleet's requests per minute at the utilisation target


def cheapest(prof: Profiles, seg: np.ndarray, *, c: np.ndarray, gpu_replica: np.ndarray, obs_replica: np.ndarray,
             fixed_obs: float, labor: Any, bill: np.ndarray, fail: float, volume: Any, ok: np.ndarray) -> Fleet:
    """The replica count that minimises GPUs + node observability + the API cost of the overflow and of
    failover, for every (segment, deployment).

    c: requests per minute one replica serves at the utilisation target; gpu_replica/obs_replica:
    monthly rent and node observability of one replica; bill: today's monthly API bill of the whole
    segment at this volume and these prices (NaN unknown); fail: share of the time a replica is down;
    ok: the pair may be used at all (model fits, latency met, overflow allowed)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        v = np.asarray(volume, dtype=float)
        g = gpu_replica + obs_replica
        usable = ok & (c > 0) & np.isfinite(c) & np.isfinite(bill) & (bill >= 0) & prof.known[seg]
        c_safe = np.where(usable, c, 1.0)
        api_rate = bill * (1.0 - fail)
        busier = np.where(api_rate > 0, v * g * prof.arrivals[seg] / (c_safe * api_rate), np.inf)
        level = prof.newsvendor_level(seg, np.where(usable, busier, np.inf))
        cover = np.maximum(np.ceil(prof.kmax[seg] * v / c_safe - 1e-9), 1.0)
        n_lo = np.clip(np.floor(level * v / c_safe + 1e-9), 1.0, cover)
        # candidates n_lo, n_lo + 1, n_lo + 2 (the whole counts around the newsvendor point, and one more
        # for the failover term); shares at n - 1 .. n + 2 in one look-up, share(0) = 1
        m = n_lo[..., None] + np.arange(-1.0, 3.0)
        shares = np.where(m > 0, prof.share(np.asarray(seg)[..., None], m * (c_safe / v)[..., None]), 1.0)
        n = m[..., 1:]
        share_n, share_down = shares[..., 1:], shares[..., :-1]
        fo = (1.0 - (1.0 - fail) ** n) * np.maximum(share_down - share_n, 0.0)
        totals = n * g[..., None] + labor_cols(labor) + fixed_obs + bill[..., None] * (share_n + fo)
        pick = np.argmin(totals, axis=-1)[..., None]
        best_total = np.take_along_axis(totals, pick, axis=-1)[..., 0]
        n_best = np.take_along_axis(np.broadcast_to(n, totals.shape), pick, axis=-1)[..., 0]
        share_best = np.take_along_axis(np.broadcast_to(share_n, totals.shape), pick, axis=-1)[..., 0]
        fo_best = np.take_along_axis(np.broadcast_to(fo, totals.shape), pick, axis=-1)[..., 0]
        total = np.where(usable, best_total, np.inf)
        return Fleet(total=total, replicas=n_best, share=share_best, failover_share=fo_best,
                     gpu=n_best * gpu_replica, obs=n_best * obs_replica + fixed_obs,
                     labor=np.broadcast_to(np.asarray(labor, dtype=float), total.shape),
                     api=bill * (share_best + fo_best), capacity_per_minute=n_best * c_safe)


def labor_cols(labor: Any) -> Any:
    """Labour broadcast against the candidate axis."""
    a = np.asarray(labor, dtype=float)
    return a[..., None] if a.ndim else a


def cost_of(prof: Profiles, seg: np.ndarray, n: np.ndarray, *, c: np.ndarray, gpu_replica: np.ndarray,
            obs_replica: np.ndarray, fixed_obs: float, labor: Any, bill: np.ndarray, fail: float,
            volume: Any) -> np.ndarray:
    """Monthly cost of a given fleet of `n` replicas (e.g. at the low end of the capacity estimate)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        c_safe = np.where(c > 0, c, np.nan)
        total, _, _ = _cost(prof, seg, n, c_safe, gpu_replica + obs_replica, fixed_obs, labor, bill, fail,
                            np.asarray(volume, dtype=float))
        return np.where(np.isfinite(total), total, np.inf)


def _cost(prof: Profiles, seg: np.ndarray, n: np.ndarray, c: np.ndarray, g: np.ndarray, fixed_obs: float, labor: Any,
          bill: np.ndarray, fail: float, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(total, overflow share, failover share) of n replicas: share(n) with all up, plus the time one of them
    is down (1 - (1 - fail)^n) times the share the lost replica would have taken."""
    share_n = prof.share(seg, n * c / v)
    share_down = np.where(n > 1, prof.share(seg, (n - 1.0) * c / v), 1.0)
    fo = (1.0 - (1.0 - fail) ** n) * np.maximum(share_down - share_n, 0.0)
    return n * g + labor + fixed_obs + bill * (share_n + fo), share_n, fo


def capacity_per_minute(mu_rps: np.ndarray, utilization: Any) -> np.ndarray:
    """Requests a minute one replica takes while meeting the latency targets at the utilisation target."""
    return np.asarray(mu_rps * utilization * MINUTES_PER_HOUR)
