#!/usr/bin/env python3
"""Where the exact NAS-Bench-201 accuracy/latency fronts live, and where a benchmark run spent its evaluations.

Reads the reference tables from ../shared/reference/nb201/ (never copied into the repository) and,
optionally, the evaluations.csv files written by `tandem benchmark tabular`. Standard library only.

Cells are grouped by their *live form*: each edge's operation if the edge lies on a path of non-`none`
edges from the cell's input to its output, else `none` (the same rule as Nb201Family.Features). Cells of
one live form compute the same function, so their CIFAR-10 accuracies differ only by training noise,
while their measured latencies differ by the cost of their dead operations and by measurement noise.

It also prints what a perfect model of the cells' functions would find without adapting: given each live
form's mean accuracy and median latency, the 300 (and 600) cells whose forms' means lie least below the front
of those means hold how many exact front members (a bound for surrogates of the live form, not for luck).

Per run of an evaluations file it prints how many evaluations went into the 341-cell classes (and how
many of those into cells with no edge into the output but 0→3, the classes' fast part), the
members found there and in all, the best accuracy evaluated, the first evaluation (1-based) of a cell
at or above --top accuracy (default 94.0 %: the table's most accurate cells), and how many parameter
changes separated those cells from the run's evaluated front after its first 30 and 60 evaluations
(the `membership_region` trust region reaches one change). Then, per strategy (means over its runs in the
file): evaluations and members found by the size of the group of cells with equal live form and equal
executed operations (cells of one such group differ only by noise and the dead-operation patterns below),
and evaluations per 50-evaluation phase by how far below the exact front at their own latency the cells'
accuracies lie (front members; within 0.3 points; 0.3 to 1; more than 1). For a strategy whose rows carry
a `predicted_member_probability` (BO's membership acquisition), it then prints how well those forecasts
were calibrated: the forecasts' sum against the exact front members found among those evaluations, and
per band of forecast and per group size the evaluations, their mean forecast and the share that are
exact front members.

With --dead-operations it prints instead which cells of the fast part (edges 1->3 and 2->3 `none`, so
only 0->3 reaches the output and edges 0->1, 0->2, 1->2 are dead code) are slower than 1.25 x their
class's median latency, on both devices and in all five classes (one per operation on 0->3): cells
whose dead operations are nevertheless run, which the executed-operation rule does not predict.

usage: nb201_front_anatomy.py [--reference DIR] [--device raspi4|pixel3] [--top PERCENT] [--dead-operations] [EVALUATIONS.csv ...]
"""
import argparse
import bisect
import collections
import csv
import os
import re
import statistics
import sys

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]  # NB201's arch_str order


def encode(arch):
    ops = [t.split("~")[0] for t in re.findall(r"[a-z_0-9]+~\d", arch)]
    if len(ops) != 6 or any(o not in OPS for o in ops):
        raise ValueError(f"not an NB201 cell: {arch!r}")
    return tuple(OPS.index(o) for o in ops)


def reaches_output(cell):
    """The nodes from which a path of non-none edges leads to the output, node 3."""
    back = {3}
    for node in (2, 1, 0):
        if any(cell[i] and b in back and a == node for i, (a, b) in enumerate(EDGES)):
            back.add(node)
    return back


def executed(cell):
    """Each edge's operation if it is not none and its head reaches the output (its result is used), else none."""
    back = reaches_output(cell)
    return tuple(cell[i] if cell[i] and b in back else 0 for i, (a, b) in enumerate(EDGES))


def live_form(cell):
    reach = {0}
    for node in (1, 2, 3):
        if any(cell[i] and a in reach and b == node for i, (a, b) in enumerate(EDGES)):
            reach.add(node)
    back = reaches_output(cell)
    return tuple(cell[i] if cell[i] and a in reach and b in back else 0 for i, (a, b) in enumerate(EDGES))


def name(form):
    parts = [f"{OPS[o]}({a}->{b})" for o, (a, b) in zip(form, EDGES) if o]
    return " + ".join(parts) if parts else "no path (output is zero)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "reference", "nb201"))
    ap.add_argument("--device", default="raspi4", choices=["raspi4", "pixel3"])
    ap.add_argument("--top", type=float, default=94.0, help="accuracy (%%) of the top cells the per-run lines look for")
    ap.add_argument("--dead-operations", action="store_true", help="list the fast-part cells whose dead operations are run (both devices)")
    ap.add_argument("evaluations", nargs="*")
    args = ap.parse_args()
    if args.dead_operations:
        dead_operations(args.reference)
        return
    try:
        acc = {encode(r["arch_str"]): float(r["cifar10_test_acc"]) for r in csv.DictReader(open(os.path.join(args.reference, "nb201_accuracy.csv")))}
        lat = {encode(r["arch_str"]): float(r[f"{args.device}_latency_ms"]) for r in csv.DictReader(open(os.path.join(args.reference, "nb201_latency_visible.csv")))}
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"nb201_front_anatomy: cannot read the NB201 tables in {args.reference}: {e}")
    cells = sorted(set(acc) & set(lat))
    form = {c: live_form(c) for c in cells}
    size = collections.Counter(form.values())
    front = staircase(cells, lat.get, acc.get)
    members = set(front)
    print(f"{args.device}: {len(cells)} cells, {len(size)} live forms, exact front {len(front)} cells")
    print(f"{'latency ms':>10} {'CIFAR-10 %':>10} {'form size':>9}  live form")
    for c in front:
        print(f"{lat[c]:10.3f} {acc[c]:10.2f} {size[form[c]]:9d}  {name(form[c])}")
    by_size = collections.Counter(size[form[c]] for c in front)
    print("front members by the size of their live form's class: "
          + ", ".join(f"{n} in classes of {s}" for s, n in sorted(by_size.items(), reverse=True)))
    twins = collections.Counter((form[c], executed(c)) for c in cells)
    group = {c: twins[(form[c], executed(c))] for c in cells}  # size of each cell's group of equal live form and executed operations
    by_twins = collections.Counter(group[c] for c in front)
    print("front members by the size of their group of equal live form and equal executed operations: "
          + ", ".join(f"{n} in groups of {s}" for s, n in sorted(by_twins.items(), reverse=True)))
    spreads = sorted(statistics.pstdev(v) for v in group_values(cells, form, acc) if len(v) >= 25 and max(v) > 11)
    quartiles = statistics.quantiles(spreads, n=4)
    print(f"accuracy spread within the {len(spreads)} live forms of at least 25 cells with a live path (standard deviation, points): "
          f"median {quartiles[1]:.2f}, middle half {quartiles[0]:.2f}-{quartiles[2]:.2f}, largest {spreads[-1]:.2f}")
    shortfall = shortfall_below(front, acc, lat)
    gaps = {c: shortfall(c) for c in cells if c not in members}
    near = collections.Counter("<= 0.3" if g <= 0.3 else "0.3-1" if g <= 1 else "> 1" for g in gaps.values())
    print(f"other cells by accuracy points below the exact front at their latency: {near['<= 0.3']} within 0.3, {near['0.3-1']} 0.3-1, {near['> 1']} more than 1"
          + f" ({sum(1 for c, g in gaps.items() if g <= 0.3 and group[c] == 1)} of those within 0.3 alone in their group)")
    for budget in (300, 600):
        found = oracle(cells, acc, lat, form, members, budget)
        print(f"a static oracle that knows every live form's mean accuracy and median latency and evaluates the {budget} cells whose forms' means lie"
              f" least below the front of those means (ties in random order) finds {statistics.mean(found):.1f} members ({min(found)}-{max(found)} over {len(found)} orders)")
    big = {f for f, n in size.items() if n == max(size.values())}
    print(f"classes of {max(size.values())} cells (one live edge from input to output, or none): "
          + "; ".join(f"{name(f)}: {sum(1 for c in front if form[c] == f)} members" for f in sorted(big)))

    for f in sorted(big):
        ranked = sorted((c for c in cells if form[c] == f), key=lambda c: lat[c])
        ranks = [i + 1 for i, c in enumerate(ranked) if c in members]
        if ranks:
            print(f"  {name(f)}: latency ranks of its members within the class (1 = fastest): " + ", ".join(map(str, ranks)))

    for path in args.evaluations:
        runs = collections.defaultdict(list)
        forecasts = collections.defaultdict(list)  # per run, the strategy's predicted member probability of each evaluation (None: no forecast)
        with open(path) as fh:
            for r in csv.DictReader(fh):
                run = (r["strategy"], int(r["seed"]))
                runs[run].append(encode(r["design"]))
                p = r.get("predicted_member_probability") or ""
                forecasts[run].append(float(p) if p else None)
        top = [c for c in cells if acc[c] >= args.top]

        def distance_to_top(designs):
            stairs = staircase(designs, lat.get, acc.get)
            return min(sum(a != b for a, b in zip(t, f)) for t in top for f in stairs) if top and stairs else None

        print(f"\n{path}: evaluations in the {max(size.values())}-cell classes / members found there / members found in all / best accuracy evaluated"
              f" / first evaluation at >= {args.top:.2f} % ({len(top)} cells) / parameter changes from those cells to the evaluated front after 30 and 60 evaluations")
        for (strategy, seed), designs in sorted(runs.items()):
            in_big = [c for c in designs if form[c] in big]
            first = next((i + 1 for i, c in enumerate(designs) if acc[c] >= args.top), None)
            fast = sum(1 for c in in_big if c[4] == 0 and c[5] == 0)  # edges 3<-1 and 3<-2 none
            print(f"  {strategy} seed {seed}: {len(in_big)} of {len(designs)} evaluations ({fast} in the fast part), "
                  f"{sum(1 for c in set(in_big) if c in members)} members, {sum(1 for c in set(designs) if c in members)} members in all, "
                  f"best {max(acc[c] for c in designs):.2f} %, first >= {args.top:.2f} % at {first if first else 'never'}, "
                  f"distance {distance_to_top(designs[:30])} / {distance_to_top(designs[:60])}")
        allocation(runs, front, group, shortfall)
        calibration(runs, forecasts, front, group)


def staircase(items, latency, accuracy):
    """The non-dominated items (latency down, accuracy up), fastest first: each more accurate than every faster one."""
    front, best = [], float("-inf")
    for x in sorted(items, key=lambda x: (latency(x), -accuracy(x))):
        if accuracy(x) > best:
            front.append(x)
            best = accuracy(x)
    return front


def oracle(cells, acc, lat, form, members, budget, orders=20):
    """Members among the `budget` cells a perfect model of the live forms would choose without adapting.

    Each cell is given its live form's mean accuracy and median latency (what a surrogate that knew every
    function exactly, but not the training or measurement noise of each cell, would predict); the cells are
    taken by how far that mean accuracy lies below the front of the forms' means at that latency (the
    front's own forms first, more accurate first among equals), cells of one form in random order.
    Returns the members found for each of `orders` random orders (seeded).
    """
    import random
    by_form = collections.defaultdict(list)
    for c in cells:
        by_form[form[c]].append(c)
    mean_acc = {f: statistics.mean(acc[c] for c in cs) for f, cs in by_form.items()}
    mid_lat = {f: statistics.median(lat[c] for c in cs) for f, cs in by_form.items()}
    stairs = [(mid_lat[f], mean_acc[f]) for f in staircase(by_form, mid_lat.get, mean_acc.get)]
    stair_lat = [p[0] for p in stairs]

    def shortfall(f):
        i = bisect.bisect_right(stair_lat, mid_lat[f]) - 1
        return round(stairs[i][1] - mean_acc[f], 9) if i >= 0 else 0.0

    ranked = sorted(by_form, key=lambda f: (shortfall(f), -mean_acc[f], name(f)))
    found = []
    for seed in range(orders):
        rng = random.Random(seed)
        chosen = []
        for f in ranked:
            cs = sorted(by_form[f])
            rng.shuffle(cs)
            chosen.extend(cs[:budget - len(chosen)])
            if len(chosen) == budget:
                break
        found.append(sum(1 for c in chosen if c in members))
    return found


def group_values(cells, key, value):
    """The values of the cells of each group of equal key(cell)."""
    groups = collections.defaultdict(list)
    for c in cells:
        groups[key[c]].append(value[c])
    return groups.values()


def shortfall_below(front, acc, lat):
    """A function giving how many accuracy points a cell lies below the exact front's best cell no slower than it (the fastest cell is on the front)."""
    front_lat = [lat[c] for c in front]  # increasing, accuracy increasing too

    def shortfall(c):
        return acc[front[bisect.bisect_right(front_lat, lat[c]) - 1]] - acc[c]  # last front member no slower than c
    return shortfall


def allocation(runs, front, group, shortfall):
    """Per strategy, means over its runs: where the evaluations went (by the size of each cell's group, and by shortfall(cell)) and where the members found were."""
    members = set(front)
    members_by_size = collections.Counter(group[c] for c in front)
    for strategy in sorted({s for s, _ in runs}):
        seeds = [d for (s, _), d in sorted(runs.items()) if s == strategy]
        n = len(seeds)
        evals, found = collections.Counter(), collections.Counter()
        for designs in seeds:
            for c in designs:
                evals[group[c]] += 1
            for c in set(designs) & members:
                found[group[c]] += 1
        print(f"  {strategy}, mean of {n} runs, by the size of the group of equal live form and executed operations: "
              + "; ".join(f"groups of {k}: {members_by_size[k]} members, {evals[k] / n:.1f} evaluations, {found[k] / n:.1f} found"
                          for k in sorted(set(evals) | set(members_by_size))))
        bins = ("members", "<= 0.3", "0.3-1", "> 1")
        phases = collections.defaultdict(collections.Counter)
        for designs in seeds:
            for i, c in enumerate(designs):
                gap = shortfall(c)
                phases[i // 50][bins[0] if c in members else bins[1] if gap <= 0.3 else bins[2] if gap <= 1 else bins[3]] += 1
        print(f"  {strategy}, evaluations per run by accuracy points below the exact front at their latency (members / <= 0.3 / 0.3-1 / > 1):")
        for k in sorted(phases):
            print(f"    evaluations {k * 50 + 1}-{k * 50 + 50}: " + " / ".join(f"{phases[k][b] / n:.1f}" for b in bins))


def calibration(runs, forecasts, front, group):
    """Per strategy that forecast membership (BO's membership acquisition): predicted probability against the share of exact front members, by forecast and by group size."""
    members = set(front)
    for strategy in sorted({s for s, _ in runs}):
        pairs = [(p, c) for key in sorted(runs) if key[0] == strategy for p, c in zip(forecasts[key], runs[key]) if p is not None]
        if not pairs:
            continue

        def line(label, chosen):
            if chosen:
                hits = sum(1 for _, c in chosen if c in members)
                print(f"    {label}: {len(chosen)} evaluations, mean forecast {statistics.fmean(p for p, _ in chosen):.3f}, "
                      f"members {hits} ({hits / len(chosen):.3f})")
        print(f"  {strategy}, calibration of its {len(pairs)} membership forecasts (predicted probability that the chosen cell is an exact front member): "
              f"they add up to {sum(p for p, _ in pairs):.1f} members, {sum(1 for _, c in pairs if c in members)} found")
        edges = [0, 0.02, 0.05, 0.1, 0.2, 1.0000001]
        for lo, hi in zip(edges, edges[1:]):
            line(f"forecast {lo:.2f}-{min(hi, 1):.2f}", [(p, c) for p, c in pairs if lo <= p < hi])
        for size in sorted({group[c] for _, c in pairs}):
            line(f"cells in groups of {size}", [(p, c) for p, c in pairs if group[c] == size])


def dead_operations(reference):
    """Fast-part cells slower than 1.25 x their class median on each device, by dead-edge pattern."""
    short = {0: "-", 1: "s", 2: "1", 3: "3", 4: "p"}  # none, skip, 1x1, 3x3, pool
    try:
        rows = list(csv.DictReader(open(os.path.join(reference, "nb201_latency_visible.csv"))))
        lat = {d: {encode(r["arch_str"]): float(r[f"{d}_latency_ms"]) for r in rows} for d in ("raspi4", "pixel3")}
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"nb201_front_anatomy: cannot read the NB201 latency table in {reference}: {e}")
    slow_in = collections.Counter()
    lists = 0
    for op in range(len(OPS)):
        cells = [c for c in lat["pixel3"] if c[3] == op and c[4] == 0 and c[5] == 0]
        for device in ("raspi4", "pixel3"):
            values = sorted(lat[device][c] for c in cells)
            median = values[len(values) // 2]
            slow = {"".join(short[o] for o in c[:3]) for c in cells if lat[device][c] > 1.25 * median}
            slow_in.update(slow)
            lists += 1
            print(f"{OPS[op]}(0->3), {device}: {len(cells)} cells, median {median:.3f} ms, {len(slow)} above 1.25 x median")
    print(f"dead-edge patterns (0->1, 0->2, 1->2; - none, s skip, 1 1x1, 3 3x3, p pool) slow in all {lists} lists: "
          + " ".join(sorted(p for p, k in slow_in.items() if k == lists)))
    print(f"slow in at least half of the lists: " + " ".join(sorted(p for p, k in slow_in.items() if k >= lists / 2)))
    print(f"slow in fewer (measurement outliers): {sum(1 for k in slow_in.values() if k < lists / 2)} patterns")


if __name__ == "__main__":
    main()
