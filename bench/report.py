#!/usr/bin/env python3
"""Helpers of bench/pass.sh: configs, measurements, summaries and the scale plot.

Python 3.11 standard library only. Subcommands:

    freeport                                    a free TCP port on 127.0.0.1
    niryat-config OUT --port P --db PATH [--auto] [--set KEY=VALUE ...]
    urlwatch-files DIR --port P --urls URLS_FILE
    measure --label L --n N --t0 NS --t1 NS --time FILE --log FILE --log-from LINE
            [--db PATH] [--stdout FILE] [--startup-first-pass MS]
                                                one JSON line (also printed for humans on stderr)
    startup --t0 NS --log FILE --log-from LINE  ms from t0 to the first request (for pass 1)
    summary RESULTS.jsonl                       medians per (label, n); niryat/urlwatch and
                                                niryat/before ratios; per-article cost between Ns
    plot RESULTS.jsonl OUT.svg [--note TEXT]    per-article cost against N
    idle PID                                    VmRSS, VmHWM and threads of a running process
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import socket
import sqlite3
import statistics
import sys
import tomllib

# ----------------------------------------------------------------------------- niryat config

SECTIONS = ("storage", "telegram", "schedule", "fetch", "detection", "source", "list", "article")


def toml_value(raw: str) -> str:
    """A TOML literal as given (500, "0s", false), or the text quoted as a TOML string."""
    try:
        tomllib.loads(f"v = {raw}")
        return raw
    except tomllib.TOMLDecodeError:
        return json.dumps(raw, ensure_ascii=False)


def niryat_config(args: argparse.Namespace) -> int:
    tables: dict[str, dict[str, str]] = {
        "storage": {"path": json.dumps(args.db)},
        "telegram": {
            "channel": '"@niryat_bench"',
            # Never contacted: without TELEGRAM_BOT_TOKEN niryat prints instead of posting.
            "api_url": '"http://127.0.0.1:9"',
        },
        "schedule": {"cron": '"0 0 * * * *"'},
        "fetch": {
            "contact": '"https://github.com/niryat/niryat"',
            "timeout": '"60s"',
            "per_host_concurrency": "8",
            "min_delay": '"0s"',
            "respect_robots_txt": "false",
        },
        "detection": {},
        "source": {
            "id": '"bench-dpr"',
            "kind": '"html"',
            "url": json.dumps(f"http://127.0.0.1:{args.port}/news/district-news"),
            "backfill": "0",
        },
        "list": {"item": '".view-content .views-row"', "link": '"h3 a"'},
        "article": {
            "title": '"h1.page-title"',
            "body": '".field-name-body"',
            "date": '".date-display-single"',
        },
    }
    if args.auto:
        tables["article"] = {}
    for item in args.set:
        key, sep, raw = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or section not in SECTIONS or not name:
            print(
                f"error: --set {item!r}: expected SECTION.KEY=VALUE with SECTION one of {', '.join(SECTIONS)} "
                "(source/list/article are the benchmark source's [[sources]], [sources.list], [sources.article])",
                file=sys.stderr,
            )
            return 2
        tables[section][name] = toml_value(raw.strip())

    def table(header: str, keys: dict[str, str]) -> str:
        return header + "\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"

    text = "# written by bench/pass.sh (bench/report.py niryat-config)\n\n"
    for name in ("storage", "telegram", "schedule", "fetch", "detection"):
        if tables[name]:
            text += table(f"[{name}]", tables[name])
    text += table("[[sources]]", tables["source"])
    text += table("[sources.list]", tables["list"])
    if tables["article"]:
        text += table("[sources.article]", tables["article"])
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        print(f"error: the benchmark config is not valid TOML ({e}); check the --set values", file=sys.stderr)
        return 2
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(text)
    return 0


# ----------------------------------------------------------------------------- urlwatch files

def urlwatch_files(args: argparse.Namespace) -> int:
    with open(args.urls, encoding="utf-8") as fh:
        paths = [p.strip() for p in fh if p.strip()]
    jobs = [
        f"name: article {i}\nurl: http://127.0.0.1:{args.port}{p}\nfilter:\n  - css: .field-name-body\n"
        for i, p in enumerate(paths, 1)
    ]
    with open(f"{args.dir}/urls.yaml", "w", encoding="utf-8") as fh:
        fh.write("---\n".join(jobs))
    with open(f"{args.dir}/urlwatch.yaml", "w", encoding="utf-8") as fh:
        fh.write(
            "display:\n  new: true\n  error: true\n  unchanged: false\n  empty-diff: true\n"
            "report:\n  stdout:\n    enabled: true\n    color: false\n"
        )
    return 0


# ----------------------------------------------------------------------------- measurements

def parse_time_v(path: str) -> dict:
    """user/sys seconds, peak RSS (KiB) and exit status from GNU time -v output."""
    text = open(path, encoding="utf-8", errors="replace").read()

    def field(label: str, cast=float):
        m = re.search(rf"^\s*{re.escape(label)}: (.+)$", text, re.M)
        return cast(m.group(1).strip()) if m else None

    return {
        "user_s": field("User time (seconds)"),
        "sys_s": field("System time (seconds)"),
        "max_rss_kb": field("Maximum resident set size (kbytes)", int),
        "exit": field("Exit status", int) or 0,
    }


def log_lines(path: str, start: int) -> list[tuple[float, int, str]]:
    """(request start time in s, status, URI) of access-log lines after line `start`.
    The log format is `$msec $request_time $status $body_bytes_sent "$request_uri"`."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh):
            if i < start:
                continue
            parts = line.split(" ", 4)
            if len(parts) < 5:
                continue
            end, took, status = float(parts[0]), float(parts[1]), int(parts[2])
            out.append((end - took, status, parts[4].strip().strip('"')))
    return out


def measure(args: argparse.Namespace) -> int:
    t0, t1 = args.t0 / 1e9, args.t1 / 1e9
    r = {"label": args.label, "n": args.n, "wall_s": round(t1 - t0, 4)}
    r.update(parse_time_v(args.time))
    reqs = log_lines(args.log, args.log_from)
    articles = [q for q in reqs if q[2].startswith("/post/")]
    r["requests"] = len(reqs)
    r["article_200"] = sum(1 for q in articles if q[1] == 200)
    r["article_other"] = len(articles) - r["article_200"]
    if reqs:
        r["startup_ms"] = round((min(q[0] for q in reqs) - t0) * 1000, 1)
        r["fetch_window_s"] = round(max(q[0] for q in reqs) - min(q[0] for q in reqs), 3)
        r["tail_ms"] = round((t1 - max(q[0] for q in reqs)) * 1000, 1)
    if args.startup_first_pass is not None and not math.isnan(args.startup_first_pass):
        r["startup_first_pass_ms"] = args.startup_first_pass
    if args.db:
        try:
            with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as c:
                r["stored"] = c.execute("SELECT count(*) FROM articles").fetchone()[0]
                r["relevant"] = c.execute("SELECT count(*) FROM articles WHERE relevant = 1").fetchone()[0]
        except sqlite3.Error as e:
            print(f"warning: cannot count articles in {args.db}: {e}", file=sys.stderr)
    if args.stdout:
        text = open(args.stdout, encoding="utf-8", errors="replace").read()
        m = re.search(r"listed (\d+), baseline (\d+), new (\d+), relevant (\d+)", text)
        if m:
            r["listed"], r["new"] = int(m.group(1)), int(m.group(3))
        if "FAILED" in text:
            r["source_failed"] = True
    done = r.get("stored", r["article_200"])
    r["complete"] = done == args.n and r["exit"] == 0 and not r.get("source_failed")
    cpu = (r["user_s"] or 0) + (r["sys_s"] or 0)
    r["per_article_wall_ms"] = round(r["wall_s"] * 1000 / args.n, 3)
    r["per_article_cpu_ms"] = round(cpu * 1000 / args.n, 3)
    print(json.dumps(r, sort_keys=True))
    print(human(r), file=sys.stderr)
    if not r["complete"]:
        print(
            f"warning: {args.label} handled {done} of {args.n} articles (exit {r['exit']}"
            f"{', source failed' if r.get('source_failed') else ''}); see its output in the run directory. "
            "If a per-pass cap was added to niryat, raise it with --set (e.g. --set source.KEY=N).",
            file=sys.stderr,
        )
    return 0


def human(r: dict) -> str:
    cpu = (r["user_s"] or 0) + (r["sys_s"] or 0)
    return (
        f"{r['label']:<11} N={r['n']:<6} {r['n'] / r['wall_s']:8.1f} articles/s  wall {r['wall_s']:7.3f} s  "
        f"user {r['user_s']:6.2f} s  sys {r['sys_s']:5.2f} s  peak RSS {r['max_rss_kb'] / 1024:6.1f} MB  "
        f"start-up {r.get('startup_ms', float('nan')):6.1f} ms  "
        f"per article {r['per_article_wall_ms']:.3f} ms wall, {cpu * 1000 / r['n']:.3f} ms CPU"
        + ("" if r["complete"] else "  [INCOMPLETE]")
    )


def startup(args: argparse.Namespace) -> int:
    reqs = log_lines(args.log, args.log_from)
    print(round((min(q[0] for q in reqs) - args.t0 / 1e9) * 1000, 1) if reqs else "nan")
    return 0


# ----------------------------------------------------------------------------- summaries

def load(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def medians(rows: list[dict]) -> dict[tuple[str, int], dict]:
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["label"], r["n"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        med = lambda k: statistics.median(x[k] for x in rs if x.get(k) is not None)
        out[key] = {
            "runs": len(rs),
            "wall_s": med("wall_s"),
            "wall_min": min(x["wall_s"] for x in rs),
            "wall_max": max(x["wall_s"] for x in rs),
            "user_s": med("user_s"),
            "sys_s": med("sys_s"),
            "max_rss_mb": med("max_rss_kb") / 1024,
            "rss_min": min(x["max_rss_kb"] for x in rs) / 1024,
            "rss_max": max(x["max_rss_kb"] for x in rs) / 1024,
            "startup_ms": med("startup_ms") if any("startup_ms" in x for x in rs) else float("nan"),
            "startup_first_ms": med("startup_first_pass_ms") if any("startup_first_pass_ms" in x for x in rs) else float("nan"),
            "wall_ms_per": med("per_article_wall_ms"),
            "cpu_ms_per": med("per_article_cpu_ms"),
            "window_ms_per": statistics.median(x["fetch_window_s"] * 1000 / x["n"] for x in rs)
            if all("fetch_window_s" in x for x in rs) else float("nan"),
            "complete": all(x["complete"] for x in rs),
        }
    return out


def summary(args: argparse.Namespace) -> int:
    m = medians(load(args.results))
    print(
        f"{'':11} {'N':>6} {'runs':>4} {'articles/s':>10} {'wall s (min-max)':>22} {'user s':>7} {'sys s':>6} "
        f"{'peak RSS MB (min-max)':>22} {'start-up ms':>11} {'wall ms/art':>11} {'CPU ms/art':>10} {'steady ms/art':>13}"
    )
    for (label, n), s in sorted(m.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(
            f"{label:11} {n:>6} {s['runs']:>4} {n / s['wall_s']:>10.1f} "
            f"{s['wall_s']:>7.3f} ({s['wall_min']:.3f}-{s['wall_max']:.3f}) {s['user_s']:>7.2f} {s['sys_s']:>6.2f} "
            f"{s['max_rss_mb']:>7.1f} ({s['rss_min']:.1f}-{s['rss_max']:.1f}) {s['startup_ms']:>11.1f} "
            f"{s['wall_ms_per']:>11.3f} {s['cpu_ms_per']:>10.3f} {s['window_ms_per']:>13.3f}"
            + ("" if s["complete"] else "  INCOMPLETE")
        )
    for (label, n), s in sorted(m.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if not math.isnan(s["startup_first_ms"]):
            print(
                f"{label} N={n}: start-up to first request {s['startup_ms']:.1f} ms (measured pass, existing database), "
                f"{s['startup_first_ms']:.1f} ms (first pass, new database); target <= 200 ms"
            )
    for n in sorted({n for _, n in m}):
        a, b = m.get(("niryat", n)), m.get(("urlwatch", n))
        if a and b:
            print(
                f"N={n}: niryat/urlwatch wall time {a['wall_s'] / b['wall_s']:.2f}x, "
                f"peak RSS {a['max_rss_mb'] / b['max_rss_mb']:.2f}x (medians; targets <= 0.2x and <= 0.5x)"
            )
        c = m.get(("before", n))
        if a and c:
            cpu = lambda s: s["user_s"] + s["sys_s"]
            print(
                f"N={n}: niryat/before wall time {a['wall_s'] / c['wall_s']:.2f}x, CPU {cpu(a) / cpu(c):.2f}x, "
                f"peak RSS {a['max_rss_mb'] / c['max_rss_mb']:.2f}x (medians)"
            )
    ns = sorted(n for label, n in m if label == "niryat")
    for lo, hi in zip(ns, ns[1:]):
        a, b = m[("niryat", lo)], m[("niryat", hi)]
        print(
            f"niryat per-article cost at N={hi} vs N={lo}: wall {b['wall_ms_per'] / a['wall_ms_per']:.2f}x, "
            f"CPU {b['cpu_ms_per'] / a['cpu_ms_per']:.2f}x (target <= 1.2x); "
            f"peak RSS {b['max_rss_mb']:.1f} vs {a['max_rss_mb']:.1f} MB"
        )
    return 0


# ----------------------------------------------------------------------------- plot

def plot(args: argparse.Namespace) -> int:
    """An SVG of niryat's per-article wall and CPU ms against N (log x axis), by hand."""
    m = medians(load(args.results))
    pts = sorted((n, s) for (label, n), s in m.items() if label == "niryat")
    if not pts:
        print("error: no niryat results to plot", file=sys.stderr)
        return 1
    series = [
        ("wall ms per article", "wall_ms_per", "#1f77b4", ""),
        ("wall ms, first to last request", "window_ms_per", "#1f77b4", ' stroke-dasharray="6 4"'),
        ("CPU ms per article", "cpu_ms_per", "#d62728", ""),
    ]
    if any(math.isnan(s["window_ms_per"]) for _, s in pts):
        series = [x for x in series if x[1] != "window_ms_per"]
    w, h, left, right, top, bottom = 780, 440, 70, 250, 40, 80
    pw, ph = w - left - right, h - top - bottom
    xs = [math.log10(n) for n, _ in pts]
    x_lo, x_hi = math.floor(min(xs)), math.ceil(max(xs))
    if x_hi == x_lo:
        x_hi += 1
    y_max = max(s[k] for _, s in pts for _, k, _, _ in series)
    step = nice_step(y_max / 5)
    y_hi = step * math.ceil(y_max * 1.1 / step)
    X = lambda n: left + (math.log10(n) - x_lo) / (x_hi - x_lo) * pw
    Y = lambda v: top + ph - v / y_hi * ph
    o = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{left + pw / 2}" y="22" text-anchor="middle" font-size="14">niryat once: per-article cost against N (bench/pass.sh --scale)</text>',
    ]
    for e in range(x_lo, x_hi + 1):
        x = X(10**e)
        o.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#ddd"/>')
        o.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{10**e:,}</text>')
    v = 0.0
    while v <= y_hi + 1e-9:
        y = Y(v)
        o.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += step
    o.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    o.append(f'<text x="{left + pw / 2}" y="{h - 18}" text-anchor="middle">N new articles in one pass (log scale)</text>')
    o.append(f'<text transform="translate(18 {top + ph / 2}) rotate(-90)" text-anchor="middle">ms per article</text>')
    for i, (name, key, colour, dash) in enumerate(series):
        line = " ".join(f"{X(n):.1f},{Y(s[key]):.1f}" for n, s in pts)
        o.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for j, (n, s) in enumerate(pts):
            last = j == len(pts) - 1
            x = X(n) - 7 if last else X(n) + 7
            y = Y(s[key]) + 17 if dash else Y(s[key]) - 7
            anchor = "end" if last else "start"
            o.append(f'<circle cx="{X(n):.1f}" cy="{Y(s[key]):.1f}" r="4" fill="{colour}"/>')
            o.append(f'<text x="{x:.1f}" y="{y:.1f}" fill="{colour}" text-anchor="{anchor}">{s[key]:.2f}</text>')
        ly = top + 20 + i * 22
        o.append(f'<line x1="{left + pw + 25}" y1="{ly}" x2="{left + pw + 50}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/>')
        o.append(f'<text x="{left + pw + 56}" y="{ly + 4}">{name}</text>')
    ry = top + 40 + len(series) * 22
    o.append(f'<text x="{left + pw + 25}" y="{ry}">peak RSS (medians of {min(s["runs"] for _, s in pts)} runs)</text>')
    for i, (n, s) in enumerate(pts):
        o.append(f'<text x="{left + pw + 25}" y="{ry + 18 + i * 16}">N={n:,}: {s["max_rss_mb"]:.1f} MB</text>')
    if args.note:
        o.append(f'<text x="{left}" y="{h - 4}" font-size="10" fill="#555">{html.escape(args.note)}</text>')
    o.append("</svg>")
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(o) + "\n")
    return 0


def nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for f in (1, 2, 2.5, 5, 10):
        if raw <= f * mag:
            return f * mag
    return 10 * mag


# ----------------------------------------------------------------------------- idle

def idle(args: argparse.Namespace) -> int:
    fields = {}
    with open(f"/proc/{args.pid}/status", encoding="utf-8") as fh:
        for line in fh:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    print(f"RSS {fields.get('VmRSS', '?')}  peak RSS (VmHWM) {fields.get('VmHWM', '?')}  threads {fields.get('Threads', '?')}")
    return 0


def freeport(_: argparse.Namespace) -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("freeport").set_defaults(fn=freeport)
    c = sub.add_parser("niryat-config")
    c.add_argument("out")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--db", required=True)
    c.add_argument("--auto", action="store_true")
    c.add_argument("--set", action="append", default=[])
    c.set_defaults(fn=niryat_config)
    u = sub.add_parser("urlwatch-files")
    u.add_argument("dir")
    u.add_argument("--port", type=int, required=True)
    u.add_argument("--urls", required=True)
    u.set_defaults(fn=urlwatch_files)
    ms = sub.add_parser("measure")
    for name, typ in [("--label", str), ("--n", int), ("--t0", int), ("--t1", int), ("--time", str),
                      ("--log", str), ("--log-from", int)]:
        ms.add_argument(name, type=typ, required=True)
    ms.add_argument("--db")
    ms.add_argument("--stdout")
    ms.add_argument("--startup-first-pass", type=float, help="start-up ms of pass 1 (fresh database)")
    ms.set_defaults(fn=measure)
    st = sub.add_parser("startup")
    st.add_argument("--t0", type=int, required=True)
    st.add_argument("--log", required=True)
    st.add_argument("--log-from", type=int, required=True)
    st.set_defaults(fn=startup)
    sm = sub.add_parser("summary")
    sm.add_argument("results")
    sm.set_defaults(fn=summary)
    pl = sub.add_parser("plot")
    pl.add_argument("results")
    pl.add_argument("out")
    pl.add_argument("--note", default="", help="a line of small print (machine, commit, load)")
    pl.set_defaults(fn=plot)
    i = sub.add_parser("idle")
    i.add_argument("pid", type=int)
    i.set_defaults(fn=idle)
    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
