"""Hybrid sizing: the overflow of every (segment, fleet capacity) from per-minute arrival histograms.

planner.hybrid answers share(C) = sum max(0, k - C) x minutes / arrivals with prefix sums and one
`searchsorted` over all segments at once; bare DuckDB does the same sums with a join of the candidate
levels against the histogram rows. Both answer the same (segment, level) pairs; the script checks they
agree and prints the ratio (this machine is noisy: compare ratios in one run), plus the whole scoring of
1,000 segments with and without profiles (CPU seconds) and peak RSS.

    .venv/bin/python bench/hybrid.py [SEGMENTS] [LEVELS_PER_SEGMENT]
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from planner import hybrid  # noqa: E402


def histograms(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for _ in range(n):
        base = float(rng.lognormal(3, 1.5)) + 1
        ks = np.unique(np.round(base * rng.lognormal(0, 0.6, size=int(rng.integers(20, 120)))))
        out.append(np.column_stack([ks, rng.integers(1, 2000, size=len(ks))]).astype(float))
    return out


def main() -> None:
    s_n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    l_n = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    rng = np.random.default_rng(5)
    hists = histograms(s_n, rng)
    kmax = np.array([h[:, 0].max() for h in hists])
    levels = (kmax[:, None] * rng.uniform(0, 1.1, size=(s_n, l_n))).round(3)

    t = time.perf_counter()
    prof = hybrid.Profiles.build(hists)
    ours = prof.share(np.arange(s_n)[:, None], levels)
    t_ours = time.perf_counter() - t

    con = duckdb.connect()
    seg = np.concatenate([np.full(len(h), i) for i, h in enumerate(hists)])
    flat = np.concatenate(hists)
    con.register("hist_np", {"seg": seg, "k": flat[:, 0], "m": flat[:, 1]})
    con.register("lvl_np", {"seg": np.repeat(np.arange(s_n), l_n), "j": np.tile(np.arange(l_n), s_n),
                            "c": levels.reshape(-1)})
    con.execute("create table hist as select * from hist_np")
    con.execute("create table lvl as select * from lvl_np")
    t = time.perf_counter()
    rows = con.execute("""
        with tot as (select seg, sum(k * m) as a from hist group by seg)
        select l.seg, l.j, sum(greatest(h.k - l.c, 0) * h.m) / any_value(t.a) as share
        from lvl as l join hist as h using (seg) join tot as t using (seg)
        group by l.seg, l.j order by l.seg, l.j
    """).fetchnumpy()
    t_duck = time.perf_counter() - t
    theirs = np.asarray(rows["share"]).reshape(s_n, l_n)
    assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-12), "planner.hybrid and DuckDB disagree"

    from test_score import CAT, PARAMS, _book, _frame, _specs_1000  # the scoring test's synthetic segments

    from planner import score

    specs = _specs_1000(rng)
    book = _book()
    plain, _ = _frame(specs)
    with_prof, _ = _frame(specs)
    with_prof.minute_hist = histograms(1000, rng)
    score.score_frame(plain, PARAMS, CAT, book)

    def cpu(frame: object) -> float:
        best = float("inf")
        for _ in range(3):
            c = time.process_time()
            score.score_frame(frame, PARAMS, CAT, book)
            best = min(best, time.process_time() - c)
        return best

    c_plain, c_prof = cpu(plain), cpu(with_prof)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"overflow shares for {s_n} segments x {l_n} capacity levels ({len(flat)} histogram rows)")
    print(f"  planner.hybrid {t_ours:.4f} s, bare DuckDB join {t_duck:.4f} s: ratio {t_ours / t_duck:.2f}x")
    print(f"scoring 1,000 segments: {c_plain:.2f} s CPU without profiles, {c_prof:.2f} s with profiles and the "
          f"hybrid option (ratio {c_prof / c_plain:.2f}x)")
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
