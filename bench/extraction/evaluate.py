#!/usr/bin/env python3
"""Token-shingle precision / recall / F1 of extracted article bodies against reference text.

The metric is the one of scrapinghub/article-extraction-benchmark's evaluate.py
(https://github.com/scrapinghub/article-extraction-benchmark/blob/master/evaluate.py), re-implemented
here with the same definitions: text is tokenised with the regex \\w+ (Unicode), 4-token shingles are counted, TP/FP/FN are the
shingle-count overlaps per page normalised to sum 1 (so long pages weigh no more than short ones),
precision is the mean over pages with TP+FP > 0, recall the mean over pages with TP+FN > 0, and
F1 is the harmonic mean of those two means. The 95% intervals are 1.96 x the standard deviation
over bootstrap resamples of the pages, as there (the seed is fixed here so reruns agree).

Usage: evaluate.py GROUND_TRUTH.json PREDICTIONS.jsonl [--split dev|heldout|all] [--per-page]
GROUND_TRUTH.json maps page id -> {"articleBody", "source", "split"}; PREDICTIONS.jsonl is the
output of `niryat extract --json` (the page id is the input file's name without `.html`).
"""
import argparse
import json
import random
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

# ---- the metric (same definitions as scrapinghub's evaluate.py, written afresh) -------------

WORD = re.compile(r'\w+', re.UNICODE)
SHINGLE = 4


def shingles(text):
    """Counts of the 4-token windows of `text`; a text of fewer than 4 tokens is one window."""
    tokens = WORD.findall(text or '')
    windows = [tuple(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))]
    return Counter(w for w in windows if w)


def page_counts(truth, pred):
    """(tp, fp, fn) of one page over shingle multisets, normalised to sum 1 when non-zero."""
    t, p = shingles(truth), shingles(pred)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total > 0 else (tp, fp, fn)


def page_precision(tp, fp, fn):
    if fp == 0 and fn == 0:
        return 1.0
    return 0.0 if tp == 0 and fp == 0 else tp / (tp + fp)


def page_recall(tp, fp, fn):
    if fp == 0 and fn == 0:
        return 1.0
    return 0.0 if tp == 0 and fn == 0 else tp / (tp + fn)


def summary(counts):
    """Mean precision over pages that predicted something, mean recall over pages that have
    reference text, and F1 of those two means."""
    p = statistics.mean(page_precision(*c) for c in counts if c[0] + c[1] > 0)
    r = statistics.mean(page_recall(*c) for c in counts if c[0] + c[2] > 0)
    return {'precision': p, 'recall': r, 'f1': 2 * p * r / (p + r)}


def evaluate(counts, n_bootstrap=1000):
    """`summary` plus 95% intervals: 1.96 x stdev over bootstrap resamples of the pages."""
    result = summary(counts)
    rng = random.Random(0)
    draws = [summary([rng.choice(counts) for _ in counts]) for _ in range(n_bootstrap)]
    for key in ('precision', 'recall', 'f1'):
        result[key + '_ci'] = 1.96 * statistics.stdev(d[key] for d in draws)
    return result


# ---- our wiring -----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('ground_truth', type=Path)
    parser.add_argument('predictions', type=Path)
    parser.add_argument('--split', choices=['dev', 'heldout', 'all'], default='all')
    parser.add_argument('--per-page', action='store_true', help='print each page, worst first')
    parser.add_argument('--json', action='store_true', help='print one JSON line at the end')
    args = parser.parse_args()

    truth = json.loads(args.ground_truth.read_text(encoding='utf8'))
    predicted = {}
    for line in args.predictions.read_text(encoding='utf8').splitlines():
        if line.strip():
            row = json.loads(line)
            predicted[Path(row['input']).name.removesuffix('.html')] = row.get('body') or ''
    keys = sorted(k for k, v in truth.items() if args.split in ('all', v['split']))
    missing = [k for k in keys if k not in predicted]
    if missing:
        sys.exit(f'no prediction for {len(missing)} page(s), e.g. {missing[0]}')
    rows = [(k, page_counts(truth[k]['articleBody'], predicted[k])) for k in keys]
    if args.per_page:
        for k, (tp, fp, fn) in sorted(rows, key=lambda r: r[1][0]):
            p, r = page_precision(tp, fp, fn), page_recall(tp, fp, fn)
            print(f'{k:<44} {truth[k]["source"]:<12} P={p:.3f} R={r:.3f}')
    m = evaluate([r for _, r in rows])
    print(f'{args.split:<8} pages={len(rows):<4} '
          f'precision={m["precision"]:.3f} ± {m["precision_ci"]:.3f}  '
          f'recall={m["recall"]:.3f} ± {m["recall_ci"]:.3f}  '
          f'F1={m["f1"]:.3f} ± {m["f1_ci"]:.3f}')
    if args.json:
        print(json.dumps({'split': args.split, 'pages': len(rows), **m}))


if __name__ == '__main__':
    main()
