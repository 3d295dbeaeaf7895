#!/usr/bin/env python3
"""Rank every fidelity of a `tandem fidelity` designs.csv against a reference from another run.

`tandem fidelity` ranks its fidelities against the reference trainings of the same run. This script
ranks the rows of one designs.csv (every fidelity label in it, old reference seeds included) against
the reference rows (labels starting with "reference") of another designs.csv of the same designs —
for example a longer reference training — matching designs by their design key. The reference score
of a design is the mean of its reference rows; failed rows (empty or NaN score) are left out.
Prints Kendall's tau-b and Spearman's rho (average ranks for ties) per fidelity. Standard library only.

usage: fidelity_rank.py ROWS.csv --reference REFERENCE.csv
"""
import argparse
import csv
import math
import sys


def read(path):
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as e:
        sys.exit(f"fidelity_rank: cannot read {path}: {e}")
    if rows and not {"fidelity", "score", "design_key"} <= set(rows[0]):
        sys.exit(f"fidelity_rank: {path} is not a tandem fidelity designs.csv (needs fidelity, score, design_key columns)")
    out = []
    for r in rows:
        try:
            score = float(r["score"])
        except ValueError:
            continue
        if math.isfinite(score):
            out.append((r["fidelity"], r["design_key"], score))
    return out


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def kendall_b(x, y):
    concordant = discordant = tie_x = tie_y = 0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tie_x += 1
            elif dy == 0:
                tie_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + tie_x) * (concordant + discordant + tie_y))
    return (concordant - discordant) / denominator if denominator > 0 else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows")
    ap.add_argument("--reference", required=True)
    args = ap.parse_args()
    reference = {}
    for label, key, score in read(args.reference):
        if label.startswith("reference"):
            reference.setdefault(key, []).append(score)
    if not reference:
        sys.exit(f"fidelity_rank: {args.reference} has no reference rows")
    ref = {k: sum(v) / len(v) for k, v in reference.items()}
    by_label = {}
    for label, key, score in read(args.rows):
        if key in ref:
            by_label.setdefault(label, {})[key] = score
    print(f"reference: {args.reference}, {len(ref)} designs, mean of {max(len(v) for v in reference.values())} row(s) each")
    print(f"{'fidelity':<24} {'designs':>7} {'Kendall tau':>11} {'Spearman rho':>12}")
    for label, scores in by_label.items():
        keys = sorted(scores)
        x, y = [scores[k] for k in keys], [ref[k] for k in keys]
        print(f"{label:<24} {len(keys):>7} {kendall_b(x, y):>11.2f} {spearman(x, y):>12.2f}")


if __name__ == "__main__":
    main()
