#!/usr/bin/env bash
# bench/pass.sh — measure one `niryat once` pass over N new articles served by nginx on loopback.
#
#   bench/pass.sh [N]              a pass over N new articles (default 1000)
#   bench/pass.sh --urlwatch [N]   the same, and urlwatch 2.29 on the same N pages; prints the ratios
#   bench/pass.sh --scale          N = 100, 1,000 and 10,000; per-article cost; writes bench/pass-scale.svg
#   bench/pass.sh --idle           `niryat run` on config/niryat.toml; its RSS after 30 s idle
#
# Options:
#   --repeat R         measure each case R times (fresh database each time); medians are reported
#   --set SEC.KEY=VAL  extra config key for the benchmark config (repeatable; also BENCH_SET="a=1 b=2").
#                      SEC: storage telegram schedule fetch detection, or source / list / article for
#                      the benchmark source's [[sources]] / [sources.list] / [sources.article].
#                      VAL is a TOML value (500, "0s", false); anything else is taken as a string.
#   --auto             no [sources.article] selectors: niryat finds the main text automatically
#   --perf             also profile the measured pass with perf (profiling build; report in bench/.out/)
#   --bin PATH         measure this binary instead of building one
#   --before PATH      also measure this (earlier) niryat binary, interleaved with the current one,
#                      labelled "before"; prints the current/before ratios (for before/after tables)
#   --cargo-profile P  build with this Cargo profile (default release; --perf uses profiling)
#   --no-build         do not run cargo build (use the existing target/<profile>/niryat)
#   --idle-secs S      idle time for --idle (default 30)
#   BENCH_WRAP="CMD"   run the measured pass under CMD (e.g. "heaptrack -o FILE"; figures include its cost)
#   --keep             keep the run directory (configs, databases, logs, outputs) and print its path
#
# What a measured pass is: a fresh database; a first `niryat once` sees a listing with one item
# (it becomes the baseline); the listing is swapped for one with N more items; the second
# `niryat once` — the measured one — fetches, extracts, classifies and stores those N articles
# (dry-run: no TELEGRAM_BOT_TOKEN, posts are printed). Politeness is relaxed for loopback:
# [fetch] per_host_concurrency = 8, min_delay = "0s", respect_robots_txt = false.
# Wall time is measured around the process; user/system CPU and peak RSS come from
# /usr/bin/time -v; start-up is the time from the process start to the first request nginx logs
# (request start = $msec - $request_time).
#
# Needs: nginx (Debian nginx-light), GNU time, python3 (3.11+), curl; --urlwatch: python3-venv and
# PyPI; --perf: perf (Debian linux-perf). Missing Debian packages are installed with apt-get when
# running as root; otherwise the script prints the command. Generated pages are cached in
# bench/.site (gitignored; about 110 KB per article); everything else lives in a temporary directory.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SITE=${BENCH_SITE:-$HERE/.site}
VENV=$HERE/.venv
OUTDIR=$HERE/.out
URLWATCH_VERSION=2.29
SCALE_NS=(100 1000 10000)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "error: $*" >&2; exit 2; }

mode=pass n=1000 repeat=1 auto=0 perf=0 build=1 bin="" before="" profile="" idle_secs=30 keep=0 urlwatch=0
sets=()
for s in ${BENCH_SET:-}; do sets+=("$s"); done
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --idle) mode=idle ;;
    --scale) mode=scale ;;
    --urlwatch) urlwatch=1 ;;
    --repeat) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive number"; repeat=$2; shift ;;
    --set) [[ ${2:-} == *=* ]] || die "--set needs SECTION.KEY=VALUE"; sets+=("$2"); shift ;;
    --auto) auto=1 ;;
    --perf) perf=1 ;;
    --bin) [[ -n ${2:-} ]] || die "--bin needs a path"; bin=$2; shift ;;
    --before) [[ -x ${2:-} ]] || die "--before needs an executable niryat binary"; before=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    --cargo-profile) [[ -n ${2:-} ]] || die "--cargo-profile needs a name"; profile=$2; shift ;;
    --no-build) build=0 ;;
    --idle-secs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--idle-secs needs a positive number"; idle_secs=$2; shift ;;
    --keep) keep=1 ;;
    [0-9]*) [[ $1 =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number, got $1"; n=$1 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done
[[ $mode == idle && $urlwatch == 1 ]] && die "--idle cannot be combined with --urlwatch"
for s in ${sets[@]+"${sets[@]}"}; do
  [[ $s =~ ^(storage|telegram|schedule|fetch|detection|source|list|article)\.[A-Za-z0-9_]+= ]] ||
    die "--set '$s': expected SECTION.KEY=VALUE, SECTION one of storage telegram schedule fetch detection source list article"
done
[[ -z $profile ]] && { if [[ $perf == 1 ]]; then profile=profiling; else profile=release; fi; }

# ----------------------------------------------------------------------------- tools

apt_install() { # apt_install PACKAGE...: install Debian packages, or say how
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing $* (apt-get) ..." >&2
    apt-get install -y -q "$@" >&2 || { apt-get update -q >&2 && apt-get install -y -q "$@" >&2; }
  else
    echo "error: missing $*; install with: sudo apt-get install $*" >&2
    exit 1
  fi
}
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || [[ -x $1 ]] || apt_install "$2"
  command -v "$1" >/dev/null 2>&1 || [[ -x $1 ]] || { echo "error: $1 still missing after installing $2" >&2; exit 1; }
}
need python3 python3
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "python3 3.11+ needed (tomllib)"
if [[ $mode != idle ]]; then
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  need "$NGINX" nginx-light
  need /usr/bin/time time
  need curl curl
fi
if [[ $perf == 1 ]]; then
  need perf linux-perf
  perf stat -e cpu-clock true >/dev/null 2>&1 || {
    echo "error: perf cannot sample here (kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)); try: sudo sysctl kernel.perf_event_paranoid=1" >&2
    exit 1
  }
fi

ensure_urlwatch() {
  if [[ ! -x $VENV/bin/urlwatch ]] || [[ $("$VENV/bin/urlwatch" --version 2>/dev/null) != "urlwatch $URLWATCH_VERSION" ]]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    echo "installing urlwatch $URLWATCH_VERSION into $VENV ..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "urlwatch==$URLWATCH_VERSION" lxml cssselect >&2
  fi
}
if [[ $urlwatch == 1 ]]; then ensure_urlwatch; fi

if [[ -z $bin ]]; then
  if [[ $build == 1 ]]; then
    echo "building niryat (cargo build --profile $profile) ..." >&2
    (cd "$ROOT" && cargo build --quiet --profile "$profile" --bin niryat) >&2
  fi
  bin=$ROOT/target/$profile/niryat
fi
[[ -x $bin ]] || die "no niryat binary at $bin (build it: cargo build --profile $profile)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# ----------------------------------------------------------------------------- run directory, cleanup

RUN=$(mktemp -d "${TMPDIR:-/tmp}/niryat-bench.XXXXXX")
NGINX_PID="" DAEMON_PID=""
cleanup() {
  local rc=$?
  if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  if [[ $keep == 1 ]]; then echo "run directory kept: $RUN" >&2; else rm -rf "$RUN"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Loopback must never go through a proxy; and dry-run: no token.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy TELEGRAM_BOT_TOKEN || true

machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GB RAM", $2/1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg); niryat: $bin ($profile)"
}

# ----------------------------------------------------------------------------- --idle

if [[ $mode == idle ]]; then
  machine
  mkdir -p "$RUN/idle/config"
  cp "$ROOT/config/niryat.toml" "$RUN/idle/config/niryat.toml"
  (cd "$RUN/idle" && exec "$bin" run >"$RUN/idle/stdout" 2>"$RUN/idle/stderr") &
  DAEMON_PID=$!
  echo "niryat run (pid $DAEMON_PID) on config/niryat.toml in $RUN/idle; waiting ${idle_secs} s ..." >&2
  for ((s = 1; s <= idle_secs; s++)); do
    sleep 1
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$RUN/idle/stderr" >&2; echo "error: niryat run exited early" >&2; exit 1; }
  done
  echo "niryat run after ${idle_secs} s idle: $(python3 "$HERE/report.py" idle "$DAEMON_PID")"
  exit 0
fi

# ----------------------------------------------------------------------------- nginx on loopback

start_nginx() {
  local conf=$RUN/nginx/nginx.conf
  mkdir -p "$RUN/nginx/tmp"
  for _ in 1 2 3 4 5; do
    PORT=$(python3 "$HERE/report.py" freeport)
    cat >"$conf" <<EOF
worker_processes 1;
user $(id -un) $(id -gn);
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log warn;
events { worker_connections 1024; }
http {
  types { text/html html; }
  default_type text/html;
  charset utf-8;
  sendfile on;
  tcp_nopush on;
  etag on;
  client_body_temp_path $RUN/nginx/tmp/body;
  proxy_temp_path $RUN/nginx/tmp/proxy;
  fastcgi_temp_path $RUN/nginx/tmp/fastcgi;
  uwsgi_temp_path $RUN/nginx/tmp/uwsgi;
  scgi_temp_path $RUN/nginx/tmp/scgi;
  log_format bench '\$msec \$request_time \$status \$body_bytes_sent "\$request_uri"';
  access_log $RUN/nginx/access.log bench;
  server {
    listen 127.0.0.1:$PORT;
    root $SITE;
    location = /news/district-news { alias $RUN/listing.html; }
    location /post/ { rewrite "^/post/([0-9]+)/" /p/\$1.html break; }
  }
}
EOF
    cp "$SITE/listing-first.html" "$RUN/listing.html"
    : >"$RUN/nginx/access.log"
    "$NGINX" -p "$RUN/nginx" -c "$conf" -g 'daemon off;' 2>>"$RUN/nginx/error.log" &
    NGINX_PID=$!
    for _ in $(seq 50); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/news/district-news" 2>/dev/null; then
        echo "nginx (pid $NGINX_PID) serving $SITE on 127.0.0.1:$PORT" >&2
        return 0
      fi
      kill -0 "$NGINX_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
  done
  cat "$RUN/nginx/error.log" >&2
  echo "error: nginx did not start" >&2
  exit 1
}

serve_listing() { # serve_listing FILE: swap the listing atomically
  cp "$1" "$RUN/listing.tmp"
  mv -f "$RUN/listing.tmp" "$RUN/listing.html"
}

log_len() { wc -l <"$RUN/nginx/access.log"; }

# ----------------------------------------------------------------------------- one measured case

RESULTS=$RUN/results.jsonl
: >"$RESULTS"
case_no=0

niryat_case() { # niryat_case N BINARY LABEL
  local n=$1 bin=$2 label=$3 dir cfg from t0 t1 prefix=()
  case_no=$((case_no + 1))
  dir=$RUN/case-$case_no
  mkdir -p "$dir"
  cfg=$dir/niryat.toml
  local cfg_args=(--port "$PORT" --db "$dir/niryat.sqlite3")
  [[ $auto == 1 ]] && cfg_args+=(--auto)
  for s in ${sets[@]+"${sets[@]}"}; do cfg_args+=(--set "$s"); done
  python3 "$HERE/report.py" niryat-config "$cfg" "${cfg_args[@]}"

  # Pass 1: a one-item listing; it becomes the baseline.
  serve_listing "$SITE/listing-first.html"
  from=$(log_len)
  t0=$(date +%s%N)
  "$bin" --config "$cfg" once >"$dir/pass1.out" 2>"$dir/pass1.err" || {
    cat "$dir/pass1.err" >&2
    echo "error: the first (baseline) pass failed; config $cfg" >&2
    exit 1
  }
  grep -q "baseline 1," "$dir/pass1.out" || {
    cat "$dir/pass1.out" "$dir/pass1.err" >&2
    echo "error: the first pass did not record the one listed item as its baseline" >&2
    exit 1
  }
  local startup_fresh
  startup_fresh=$(python3 "$HERE/report.py" startup --t0 "$t0" --log "$RUN/nginx/access.log" --log-from "$from")

  # Pass 2, measured: N new items.
  serve_listing "$SITE/listing-full-$n.html"
  from=$(log_len)
  prefix=()
  # BENCH_WRAP="heaptrack -o FILE": run the measured pass under a tool (figures then include its cost).
  [[ -n ${BENCH_WRAP:-} ]] && read -ra prefix <<<"$BENCH_WRAP"
  if [[ $perf == 1 ]]; then
    mkdir -p "$OUTDIR"
    prefix=(perf record -e cpu-clock -F 999 --call-graph "dwarf,32768" -o "$dir/perf.data" --)
  fi
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$dir/time.txt" ${prefix[@]+"${prefix[@]}"} "$bin" --config "$cfg" once >"$dir/pass2.out" 2>"$dir/pass2.err" || true
  t1=$(date +%s%N)
  [[ $perf == 1 ]] && label=$label+perf # timings include perf's overhead
  python3 "$HERE/report.py" measure --label "$label" --n "$n" --t0 "$t0" --t1 "$t1" --time "$dir/time.txt" \
    --log "$RUN/nginx/access.log" --log-from "$from" --db "$dir/niryat.sqlite3" --stdout "$dir/pass2.out" \
    --startup-first-pass "$startup_fresh" >>"$RESULTS"
  echo "          (pass 1, new database: start-up to first request $startup_fresh ms; pass 2: $(grep -m1 'bench-dpr' "$dir/pass2.out" | sed 's/  */ /g'))" >&2
  if [[ $perf == 1 ]]; then
    local tag=$n
    [[ $label == niryat+perf ]] || tag=${label%+perf}-$n
    local report=$OUTDIR/perf-report-$tag.txt
    echo "perf report ..." >&2
    # Inclusive (children) and self cost per function; inlined frames folded into their caller.
    perf report -i "$dir/perf.data" --stdio --children --no-inline --sort symbol -g none --percent-limit 0.5 2>/dev/null |
      sed 's/  */ /g; s/ - - *$//' >"$report"
    perf report -i "$dir/perf.data" --stdio --no-children --no-inline --sort symbol -g none --percent-limit 0.3 2>/dev/null |
      sed 's/  */ /g; s/ - - *$//' >"$OUTDIR/perf-self-$tag.txt"
    cp "$dir/perf.data" "$OUTDIR/perf-$tag.data"
    echo "top functions by inclusive cost (children, self), full reports: $report, $OUTDIR/perf-self-$tag.txt; data: $OUTDIR/perf-$tag.data" >&2
    grep -E '^ [0-9]' "$report" | cut -c1-160 | head -60 >&2
  fi
}

urlwatch_case() { # urlwatch_case N
  local n=$1 dir from t0 t1
  case_no=$((case_no + 1))
  dir=$RUN/case-$case_no
  mkdir -p "$dir/xdg"
  python3 "$HERE/report.py" urlwatch-files "$dir" --port "$PORT" --urls "$SITE/urls-$n.txt"
  serve_listing "$SITE/listing-full-$n.html"
  from=$(log_len)
  t0=$(date +%s%N)
  XDG_CONFIG_HOME=$dir/xdg XDG_CACHE_HOME=$dir/xdg HOME=$dir/xdg \
    /usr/bin/time -v -o "$dir/time.txt" "$VENV/bin/urlwatch" --urls "$dir/urls.yaml" --config "$dir/urlwatch.yaml" \
    --hooks "$dir/hooks.py" --cache "$dir/cache.db" >"$dir/urlwatch.out" 2>"$dir/urlwatch.err" || true
  t1=$(date +%s%N)
  python3 "$HERE/report.py" measure --label urlwatch --n "$n" --t0 "$t0" --t1 "$t1" --time "$dir/time.txt" \
    --log "$RUN/nginx/access.log" --log-from "$from" >>"$RESULTS"
}

prepare_site() { # prepare_site N
  python3 "$HERE/pages.py" "$SITE" "$1"
  echo "site for N=$1: $(cat "$SITE/stats-$1.json")" >&2
}

# ----------------------------------------------------------------------------- main

machine
if [[ $mode == scale ]]; then ns=("${SCALE_NS[@]}"); else ns=("$n"); fi
for n in "${ns[@]}"; do prepare_site "$n"; done
start_nginx
for n in "${ns[@]}"; do
  for ((r = 1; r <= repeat; r++)); do
    niryat_case "$n" "$bin" niryat
    if [[ -n $before ]]; then niryat_case "$n" "$before" before; fi
    if [[ $urlwatch == 1 ]]; then urlwatch_case "$n"; fi
  done
done

echo
echo "== results (medians of $repeat run(s); niryat $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ), load average now $(cut -d' ' -f1-3 /proc/loadavg))"
python3 "$HERE/report.py" summary "$RESULTS"
if [[ $mode == scale ]]; then
  python3 "$HERE/report.py" plot "$RESULTS" "$HERE/pass-scale.svg" \
    --note "$(machine | sed 's/^machine: //; s/; niryat: .*//'), niryat $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%d)"
  echo "plot: $HERE/pass-scale.svg"
fi
mkdir -p "$OUTDIR"
cp "$RESULTS" "$OUTDIR/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
