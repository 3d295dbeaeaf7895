#!/usr/bin/env python3
"""How well a Gaussian process predicts NAS-Bench-201 CIFAR-10 accuracy or a device's latency from each set of design features.

Offline check behind the BO option `features` (docs/search.md, "Counting what a cell is made of"). For
n random cells whose accuracy is above 11 % (the 10 % cells are cells with no live path), fit a GP with
the kernel Tandem's BO uses — Matérn-5/2 on r² = Σ_p d_p² / ℓ_p², categorical parameters by overlap
(d = 0 or 1), ordered ones by difference, one length scale per input (ARD), signal 1 on standardised
outputs, fitted noise — by maximum marginal likelihood (L-BFGS-B from two starts), then predict every
other live cell. Printed per feature set: Spearman ρ over all held-out live cells, and ρ and RMSE
(accuracy points) over the held-out cells at ≥ 92 %, where the exact fronts' accurate halves lie;
mean over repetitions with different random training sets (same sets for every feature set).
By default, unlike Tandem's GP, this one models raw accuracies: it compares inputs, not the BO; with
`--warp rank` it fits rank-warped accuracies as Tandem's BO does (`warp: rank`, the default) and maps
its predictions back through the training accuracies' empirical quantiles for the RMSE.

Feature sets: `raw` (the six edges' operations, categorical), `raw+live` (plus the six live edges:
`features: categorical`), `raw+live+counts` (plus the eight ordered counts of the live form:
`features: [arch.live_*]`; Nb201Family.LiveFormCounts), `raw+live+counts+executed` (plus the four
ordered counts of executed operations, edges whose result reaches the output: `features: auto`;
Nb201Family.ExecutedCounts). With `--paths`, two sets that Tandem does not have: `...counts+pathcat`
(plus, per input-to-output path, its operation sequence if every edge on it is live, else "dead": four
categorical features) and `...counts+pathenc` (plus BANANAS-style path encodings: how many live paths
carry each operation sequence of length 1-3, 84 counts compared by one shared length scale).

With `--target latency --device D`: the GP models log latency of every cell (the 10 % cells included),
trained on n random cells; printed are Spearman ρ over all held-out cells and over the held-out cells
of the five 341-cell classes (one live edge 0→3, or none), and RMSE of log latency. First, without a
GP, how much of the log latency of the cells with a live path a least-squares model additive in
per-edge operation costs explains (R²) when an edge counts if it is anything but none (`raw`), live
(`live`), or executed (`executed`).

usage: nb201_feature_models.py [--reference DIR] [--target accuracy|latency] [--device raspi4|pixel3]
                               [--n 100 200] [--repeats 3] [--seed 0] [--warp none|rank] [--paths]
Needs NumPy and SciPy.
"""
import argparse
import csv
import itertools
import os
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm, rankdata, spearmanr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nb201_front_anatomy import encode, executed, live_form  # noqa: E402

PATHS = [(3,), (0, 4), (1, 5), (0, 2, 5)]  # 0→3, 0→1→3, 0→2→3, 0→1→2→3 as edge indices


def counts(live):
    """The eight ordered live-form features, as Nb201Family.LiveFormCounts computes them."""
    ops = [sum(1 for o in live if o == k) / 6 for k in (1, 2, 3, 4)]
    alive = [p for p in PATHS if all(live[e] for e in p)]
    depth = max((len(p) for p in alive), default=0)
    convs = max((sum(1 for e in p if live[e] in (2, 3)) for p in alive), default=0)
    conv3 = max((sum(1 for e in p if live[e] == 3) for p in alive), default=0)
    return ops + [len(alive) / 4, depth / 3, convs / 3, conv3 / 3]


def executed_counts(cell):
    """The four ordered executed-operation features, as Nb201Family.ExecutedCounts computes them."""
    ex = executed(cell)
    return [sum(1 for o in ex if o == k) / 6 for k in (1, 2, 3, 4)]


SEQUENCES = [s for n in (1, 2, 3) for s in itertools.product((1, 2, 3, 4), repeat=n)]


def path_codes(live):
    """Per path (PATHS order), 1 + its operation sequence as a base-5 number if every edge is live, else 0."""
    codes = []
    for p in PATHS:
        code = 0
        for e in p:
            code = code * 5 + live[e]
        codes.append(code + 1 if all(live[e] for e in p) else 0)
    return codes


def path_encoding(live):
    """How many live paths carry each operation sequence of length 1-3 (84 counts, SEQUENCES order)."""
    v = [0] * len(SEQUENCES)
    for p in PATHS:
        if all(live[e] for e in p):
            v[SEQUENCES.index(tuple(live[e] for e in p))] += 1
    return v


def kernel(ls, a, b, cat, num, group=None):
    d = np.zeros((len(a), len(b)))
    for j in range(cat.shape[1]):
        d += (cat[a][:, None, j] != cat[b][None, :, j]) / ls[j] ** 2
    for j in range(num.shape[1]):
        d += ((num[a][:, None, j] - num[b][None, :, j]) / ls[cat.shape[1] + j]) ** 2
    if group is not None:  # one more length scale, shared by all of the group's columns
        ga, gb = group[a], group[b]
        sq = (ga * ga).sum(1)[:, None] + (gb * gb).sum(1)[None, :] - 2 * ga @ gb.T
        d += np.maximum(sq, 0) / ls[cat.shape[1] + num.shape[1]] ** 2
    r = np.sqrt(5 * d)
    return (1 + r + r * r / 3) * np.exp(-r)


def rank_warp(y):
    """Tandem's output warp: ranks (ties averaged) to standard normal quantiles (rank − ½)/n."""
    return norm.ppf((rankdata(y) - 0.5) / len(y))


def fit_predict(train, test, y_all, cat, num, warp="none", group=None):
    y = y_all[train]
    if warp == "rank":
        # Fit and predict on the warped scale, then map predictions back through the training outputs'
        # empirical quantiles so that errors are in accuracy points again.
        pred = fit_predict_z(train, test, rank_warp(y), cat, num, group)
        return np.quantile(y, np.clip(norm.cdf(pred), 0, 1))
    return fit_predict_z(train, test, y, cat, num, group)


def fit_predict_z(train, test, y, cat, num, group=None):
    mu, sd = y.mean(), y.std()
    z = (y - mu) / sd
    dims = cat.shape[1] + num.shape[1] + (group is not None)

    def nll(theta):
        k = kernel(np.exp(theta[:-1]), train, train, cat, num, group) + (np.exp(theta[-1]) + 1e-8) * np.eye(len(z))
        try:
            low = np.linalg.cholesky(k)
        except np.linalg.LinAlgError:
            return 1e9
        alpha = np.linalg.solve(low.T, np.linalg.solve(low, z))
        return 0.5 * z @ alpha + np.log(np.diag(low)).sum()

    best = None
    for start in (0.0, 1.0):
        res = minimize(nll, np.r_[np.full(dims, start), np.log(0.1)], method="L-BFGS-B", bounds=[(-3, 4)] * dims + [(-9, 0)])
        if best is None or res.fun < best.fun:
            best = res
    theta = best.x
    k = kernel(np.exp(theta[:-1]), train, train, cat, num, group) + np.exp(theta[-1]) * np.eye(len(z))
    return mu + sd * (kernel(np.exp(theta[:-1]), test, train, cat, num, group) @ np.linalg.solve(k, z))


def additive_r2(cells, y, form):
    """R² of least squares of y on per-edge operation one-hots of form(cell) (30 columns and an intercept)."""
    x = np.zeros((len(cells), 31))
    x[:, 30] = 1
    for r, c in enumerate(cells):
        for i, o in enumerate(form(c)):
            if o:
                x[r, i * 5 + o] = 1
    res = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    return 1 - res.var() / y.var()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "reference", "nb201"))
    ap.add_argument("--target", default="accuracy", choices=["accuracy", "latency"])
    ap.add_argument("--device", default="raspi4", choices=["raspi4", "pixel3"])
    ap.add_argument("--n", type=int, nargs="+", default=[100, 200])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warp", default="none", choices=["none", "rank"], help="rank: fit on rank-warped outputs as Tandem's BO does (accuracy only)")
    ap.add_argument("--paths", action="store_true", help="also the two path feature sets Tandem does not have (pathcat, pathenc)")
    args = ap.parse_args()
    table, column = ("nb201_accuracy.csv", "cifar10_test_acc") if args.target == "accuracy" else ("nb201_latency_visible.csv", f"{args.device}_latency_ms")
    try:
        rows = list(csv.DictReader(open(os.path.join(args.reference, table))))
        value = {encode(r["arch_str"]): float(r[column]) for r in rows}
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"nb201_feature_models: cannot read {column} from {args.reference}/{table}: {e}")
    cells = sorted(value)
    y = np.array([value[c] for c in cells])
    raw = np.array(cells, dtype=float)
    live = np.array([live_form(c) for c in cells], dtype=float)
    cnt = np.array([counts(tuple(int(v) for v in l)) for l in live])
    exc = np.array([executed_counts(c) for c in cells])
    none = np.zeros((len(cells), 0))
    sets = {"raw": (raw, none), "raw+live": (np.c_[raw, live], none), "raw+live+counts": (np.c_[raw, live], cnt),
            "raw+live+counts+executed": (np.c_[raw, live], np.c_[cnt, exc])}
    groups = {}
    if args.paths:
        lives = [tuple(int(v) for v in l) for l in live]
        sets["...counts+pathcat"] = (np.c_[raw, live, np.array([path_codes(l) for l in lives], dtype=float)], cnt)
        sets["...counts+pathenc"] = (np.c_[raw, live], cnt)
        groups["...counts+pathenc"] = np.array([path_encoding(l) for l in lives], dtype=float)
    rng = np.random.default_rng(args.seed)
    if args.target == "accuracy":
        pool = np.where(y > 11)[0]
        print(f"{len(cells)} cells, {len(pool)} above 11 %; GP per feature set, mean of {args.repeats} random training sets")
        print(f"{'n':>4} {'features':<24} {'rho (all)':>9} {'rho (>=92%)':>11} {'RMSE >=92% (points)':>20}")
    else:
        alive = [c for c in cells if any(live_form(c))]
        ly = np.log([value[c] for c in alive])
        print(f"{args.device} latency, {len(alive)} cells with a live path: R² of log latency additive in per-edge operation costs, "
              + ", ".join(f"{name} edges {additive_r2(alive, ly, form):.3f}" for name, form in (("raw", lambda c: c), ("live", live_form), ("executed", executed))))
        y = np.log(y)
        pool = np.arange(len(cells))
        single = np.array([sum(1 for o in live_form(c) if o) == 0 or (sum(1 for o in live_form(c) if o) == 1 and live_form(c)[3] > 0) for c in cells])
        print(f"GP of log latency per feature set, all {len(cells)} cells, mean of {args.repeats} random training sets")
        print(f"{'n':>4} {'features':<24} {'rho (all)':>9} {'rho (341-cell classes)':>22} {'RMSE (log ms)':>13}")
    for n in args.n:
        scores = {name: [] for name in sets}
        for _ in range(args.repeats):
            train = rng.choice(pool, n, replace=False)
            test = np.setdiff1d(pool, train)
            for name, (cat, num) in sets.items():
                pred = fit_predict(train, test, y, cat, num, args.warp if args.target == "accuracy" else "none", groups.get(name))
                if args.target == "accuracy":
                    top = y[test] >= 92
                    scores[name].append((spearmanr(pred, y[test])[0], spearmanr(pred[top], y[test][top])[0],
                                         np.sqrt(np.mean((pred[top] - y[test][top]) ** 2))))
                else:
                    big = single[test]
                    scores[name].append((spearmanr(pred, y[test])[0], spearmanr(pred[big], y[test][big])[0],
                                         np.sqrt(np.mean((pred - y[test]) ** 2))))
        for name, s in scores.items():
            m = np.mean(s, axis=0)
            if args.target == "accuracy":
                print(f"{n:>4} {name:<24} {m[0]:9.3f} {m[1]:11.3f} {m[2]:20.2f}")
            else:
                print(f"{n:>4} {name:<24} {m[0]:9.3f} {m[1]:22.3f} {m[2]:13.3f}")


if __name__ == "__main__":
    main()
