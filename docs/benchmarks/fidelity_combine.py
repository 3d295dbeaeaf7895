#!/usr/bin/env python3
"""Kendall tau of every fidelity of a `tandem fidelity` run alone and summed with each zero-cost proxy.

For every label of ROWS.csv whose name starts with one of --labels (default: "supernet") and every proxy
label present (synflow, naswot, grad_norm, snip), the score of a design is z(label) + z(proxy), each
standardised over the designs of the file (population mean and standard deviation), and the table gives
Kendall's tau-b of the label alone and of each sum against the mean of the reference rows (labels
"reference", "reference_seed2", ...) of REFERENCE.csv (default: ROWS.csv itself), matching designs by
design key; designs missing from either side are left out. Tandem's supernet option `proxy` computes
such a sum inside a study, standardised over random designs of the family instead of the file's designs
(docs/accuracy.md). Standard library only.

usage: fidelity_combine.py ROWS.csv [--reference REFERENCE.csv] [--labels PREFIX ...]
"""
import argparse
import collections
import csv
import math
import statistics
import sys

PROXIES = ["synflow", "naswot", "grad_norm", "snip"]


def read(path):
    scores = collections.defaultdict(dict)  # label -> design key -> score (first row of a design counts)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row.get("failure") or not row["score"]:
                continue
            value = float(row["score"])
            if math.isfinite(value):
                scores[row["fidelity"]].setdefault(row["design_key"], value)
    return scores


def kendall_tau_b(x, y):
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(x)):
        for j in range(i):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denominator if denominator else float("nan")


def zscores(values):
    mean, std = statistics.fmean(values), statistics.pstdev(values)
    return [(v - mean) / std if std > 0 else 0.0 for v in values]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows")
    ap.add_argument("--reference")
    ap.add_argument("--labels", nargs="+", default=["supernet"])
    args = ap.parse_args()
    try:
        rows = read(args.rows)
        ref_rows = read(args.reference) if args.reference else rows
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"fidelity_combine.py: cannot read the rows: {e}")
    replicates = [l for l in ref_rows if l == "reference" or l.startswith("reference_seed")]
    if not replicates:
        sys.exit("fidelity_combine.py: the reference file has no reference rows")
    keys = set.intersection(*(set(ref_rows[l]) for l in replicates))
    reference = {k: statistics.fmean(ref_rows[l][k] for l in replicates) for k in keys}
    proxies = [p for p in PROXIES if p in rows]
    labels = [l for l in rows if any(l.startswith(p) for p in args.labels)]
    print(f"reference: mean of {', '.join(replicates)} over {len(reference)} designs")
    print("| fidelity | designs | alone | " + " | ".join(f"+ {p}" for p in proxies) + " |")
    print("|---|---|---|" + "---|" * len(proxies))
    for label in labels:
        common = sorted(k for k in rows[label] if k in reference and all(k in rows[p] for p in proxies))
        if len(common) < 3:
            continue
        own = [rows[label][k] for k in common]
        target = [reference[k] for k in common]
        cells = [f"{kendall_tau_b(own, target):.2f}"]
        for p in proxies:
            summed = [a + b for a, b in zip(zscores(own), zscores([rows[p][k] for k in common]))]
            cells.append(f"{kendall_tau_b(summed, target):.2f}")
        print(f"| {label} | {len(common)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
