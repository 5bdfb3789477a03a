"""Benchmarks of what a trader feels: `python benchmarks/run.py [--json] [--quick] [--only KEY ...]`.

Each figure runs in its own subprocess (start-up and RSS need a clean process; the others get a
quiet heap) and is the median of repeated runs unless its name says p99. Offscreen Qt throughout.
`--json` prints one JSON object as the LAST line of stdout; otherwise a readable table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the groups import their siblings (`import gui`): a script's own folder is on sys.path
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# key -> (goal, comparison); the figure "meets" the goal when compare(measured, goal) holds.
GOALS: dict[str, tuple[object, str]] = {
    "recompute_1000_ms": (5.0, "<="),
    # Issue 11: the same 1,000 positions with pairs quoted in USD, EUR and BTC (USD account), one
    # pair moving per tick and every fifth tick an FX pair (BTC/USD or EUR/USD).
    "recompute_1000_mixed_ms": (5.0, "<="),
    "tick_to_screen_p50_ms": (None, ""),
    "tick_to_screen_p99_ms": (16.7, "<="),
    "table_update_1000_ms": (5.0, "<="),
    "chart_update_1m_ms": (10.0, "<="),
    "sqlite_cycle_write_ms": (1.0, "<="),
    "alert_to_popup_ms": (50.0, "<="),
    "startup_ms": (500.0, "<="),
    "peak_rss_mb": (250.0, "<="),
    "signal_emits_ok": (True, "=="),
    # Issue 4 (no goal set): the real PollWorker, live mode, local Kraken-protocol server, 200 positions.
    "price_to_signal_p50_ms": (None, ""),
    "price_to_signal_p99_ms": (None, ""),
    "worker_cycle_write_ms": (None, ""),
    # Issue 3 (no goal set): one Ticker request for 4 pairs; TradeBalance + OpenPositions, signed.
    "kraken_fetch_tickers_ms": (None, ""),
    "kraken_fetch_account_ms": (None, ""),
    # Naive baselines measured in the same run (issue 17 item 6): ratio = baseline / ours, no goal.
    "recompute_1000_uncached_ms": (None, ""),
    "recompute_ratio": (None, ""),
    "table_update_naive_ms": (None, ""),
    "table_update_ratio": (None, ""),
    "sqlite_insert_all_naive_ms": (None, ""),
    "sqlite_cycle_write_ratio": (None, ""),
    # Issue 17 item 6: exchange push -> table cell and chart painted; the goal is one display frame
    # plus the loopback round trip measured in the same run (stream_p99_goal_ms), checked by *_within_goal.
    "stream_to_paint_p50_ms": (None, ""),
    "stream_to_paint_p99_ms": (None, ""),
    "poll_to_paint_p50_ms": (None, ""),
    "poll_to_paint_p99_ms": (None, ""),
    "loopback_rtt_ms": (None, ""),
    "stream_p99_goal_ms": (None, ""),
    "stream_p99_within_goal": (True, "=="),
    "poll_stream_p50_ratio": (None, ""),
    "poll_stream_p99_ratio": (None, ""),
    # Issue 17 item 7: demo GUI process idling with streaming on; RSS over a streaming soak.
    "idle_cpu_pct_one_core": (3.0, "<="),
    "soak_rss_growth_mb": (10.0, "<="),
}

# Which subprocess "group" produces which keys.
GROUPS = {
    "recompute": ["recompute_1000_ms", "recompute_1000_mixed_ms", "recompute_1000_uncached_ms", "recompute_ratio"],
    "tick": ["tick_to_screen_p50_ms", "tick_to_screen_p99_ms"],
    "table": ["table_update_1000_ms", "table_update_naive_ms", "table_update_ratio"],
    "chart": ["chart_update_1m_ms"],
    "sqlite": ["sqlite_cycle_write_ms", "sqlite_insert_all_naive_ms", "sqlite_cycle_write_ratio"],
    "alert": ["alert_to_popup_ms"],
    "startup": ["startup_ms"],
    "rss": ["peak_rss_mb"],
    "signals": ["signal_emits_ok"],
    "worker": ["price_to_signal_p50_ms", "price_to_signal_p99_ms", "worker_cycle_write_ms"],
    "exchange": ["kraken_fetch_tickers_ms", "kraken_fetch_account_ms"],
    "stream": ["stream_to_paint_p50_ms", "stream_to_paint_p99_ms", "poll_to_paint_p50_ms", "poll_to_paint_p99_ms",
               "loopback_rtt_ms", "stream_p99_goal_ms", "stream_p99_within_goal", "poll_stream_p50_ratio",
               "poll_stream_p99_ratio"],
    "idle": ["idle_cpu_pct_one_core", "soak_rss_growth_mb"],
}


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# -- pure-Python figures --------------------------------------------------------------------------


def bench_recompute(quick: bool) -> dict:
    import data

    from kraken_monitor.domain import margin

    n = 10 if quick else 40
    rl, st, px = data.rules(100), data.state(1000, 100), data.prices(100)
    margin.compute(st, px, rl, data.NOW)  # warm caches (terms parsing, decimal context)
    ticks = [data.bump(px, f"P{i % 100:03d}/USD", "0.01") for i in range(n)]
    it = iter(ticks)
    result = {"recompute_1000_ms": _median_ms(lambda: margin.compute(st, next(it), rl, data.NOW), len(ticks))}
    # Baseline: the same engine without its caches (figure_books.clear_cache before each call = a cold book;
    # the hypothesis test in tests/domain/test_figures.py compares the two digit for digit).
    from kraken_monitor.domain import figure_books

    it = iter(ticks)

    def cold() -> None:
        figure_books.clear_cache()
        margin.compute(st, next(it), rl, data.NOW)

    result["recompute_1000_uncached_ms"] = _median_ms(cold, len(ticks))
    result["recompute_ratio"] = result["recompute_1000_uncached_ms"] / result["recompute_1000_ms"]
    q = data.MIXED_QUOTES
    rl, st, px = data.rules(100, q), data.state(1000, 100, quotes=q), data.prices(100, quotes=q)
    pairs = data.pair_names(100, q)
    fx = sorted(data.FX_PRICES)
    margin.compute(st, px, rl, data.NOW)
    ticks = [data.bump(px, fx[i // 5 % 2] if i % 5 == 4 else pairs[i % 100], "0.00001") for i in range(n)]
    it = iter(ticks)
    result["recompute_1000_mixed_ms"] = _median_ms(lambda: margin.compute(st, next(it), rl, data.NOW), len(ticks))
    return result


def bench_sqlite(quick: bool) -> dict:
    import data

    from kraken_monitor.domain.models import Snapshot, Ticker
    from kraken_monitor.storage.journal import Journal

    rl, st, px = data.rules(50), data.state(200, 50), data.prices(50)
    base = data.snapshot(st, px, rl)
    n = 10 if quick else 60
    snaps = []
    for i in range(n + 3):
        now = data.NOW + data.timedelta(seconds=i + 1)
        # Every cycle is new prices AND a re-read account: 50 ticks + account + 200 position rows.
        snaps.append(Snapshot(
            mode="demo", as_of=now, stale=False, account=base.account, positions=base.positions,
            tickers={p: Ticker(p, t.bid, t.ask, t.last, now) for p, t in base.tickers.items()},
            pair_rules=base.pair_rules, prices_as_of=now, account_as_of=now,
        ))
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal.open(Path(tmp) / "bench.sqlite3")
        for s in snaps[:3]:
            journal.write_cycle(s)  # warm: schema pages, statement cache
        it = iter(snaps[3:])
        figure = _median_ms(lambda: journal.write_cycle(next(it)), n)
        rows = journal.row_counts() if hasattr(journal, "row_counts") else {}
        journal.close()
        naive = _naive_insert_all(Path(tmp) / "naive.sqlite3", snaps, n)
    return {"sqlite_cycle_write_ms": figure, "sqlite_rows": rows, "sqlite_insert_all_naive_ms": naive,
            "sqlite_cycle_write_ratio": naive / figure}


def _naive_insert_all(path: Path, snaps: list, n: int) -> float:
    """Baseline: plain sqlite-utils `insert_all` of the same rows per cycle (tickers, account, positions)."""
    import dataclasses

    import sqlite_utils

    def rows(items) -> list[dict]:
        return [{f.name: str(getattr(x, f.name)) for f in dataclasses.fields(x)} for x in items]

    db = sqlite_utils.Database(path)

    def write(s) -> None:
        with db.conn:
            db["tickers"].insert_all(rows(s.tickers.values()))
            db["accounts"].insert_all(rows([s.account]))
            db["positions"].insert_all(rows(s.positions))

    for s in snaps[:3]:
        write(s)
    it = iter(snaps[3:])
    figure = _median_ms(lambda: write(next(it)), n)
    db.close()
    return figure


def bench_startup(quick: bool) -> dict:
    """Process start -> first paint of the main window, demo mode, warm (one unmeasured run first)."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp,
                   XDG_STATE_HOME=tmp, XDG_CACHE_HOME=tmp, HOME=tmp, PYTHONPATH=str(ROOT))
        # Warm means .pyc in place, as after a user's first launch; a shell that sets this would make
        # every run compile the sources again (~125 ms here), so the warm-up run could not warm them.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        probe = Path(tmp) / "probe.txt"
        env["KRAKEN_MONITOR_STARTUP_PROBE"] = str(probe)
        cmd = [sys.executable, "-m", "kraken_monitor", "--mode", "demo", "--db", str(Path(tmp) / "s.sqlite3")]
        for i in range((1 if quick else 5) + 1):
            probe.unlink(missing_ok=True)
            start = time.time()
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp)
            try:
                deadline = time.time() + 30
                while not probe.exists() and time.time() < deadline and proc.poll() is None:
                    time.sleep(0.005)
                time.sleep(0.02)  # let the probe finish writing
                text = probe.read_text().strip() if probe.exists() else ""
            finally:
                proc.kill()  # we started it; the journal is a throw-away temp file
                _, err = proc.communicate()
            if not text:
                raise RuntimeError(f"no start-up probe written; stderr: {err.decode(errors='replace')[-500:]}")
            if i:  # the first run warms the page cache and .pyc files
                runs.append((float(text) - start) * 1000)
    return {"startup_ms": statistics.median(runs)}


def bench_gui(group: str, quick: bool) -> dict:
    import gui

    if group == "tick":
        return gui.tick_to_screen(samples=30 if quick else 150)
    if group == "table":
        return gui.table_update(repeats=8 if quick else 30)
    if group == "chart":
        return gui.chart_update(repeats=5 if quick else 20, points=100_000 if quick else 1_000_000)
    if group == "alert":
        return gui.alert_to_popup(repeats=3 if quick else 10)
    if group == "rss":
        return gui.peak_rss(points=100_000 if quick else 1_000_000)
    if group == "signals":
        return gui.signal_emits(count=20_000 if quick else 1_000_000)
    raise KeyError(group)


def run_group(group: str, quick: bool) -> dict:
    if group == "recompute":
        return bench_recompute(quick)
    if group == "sqlite":
        return bench_sqlite(quick)
    if group == "startup":
        return bench_startup(quick)
    if group == "exchange":
        import exchange_roundtrip

        return exchange_roundtrip.roundtrip(repeats=20 if quick else 200)
    if group == "worker":
        import worker_latency

        return worker_latency.price_to_signal(seconds=2.0 if quick else 6.0)
    if group == "stream":
        import stream_latency

        return stream_latency.stream_vs_poll(stream_samples=30 if quick else 150, poll_samples=4 if quick else 20)
    if group == "idle":
        import stream_latency

        out = stream_latency.idle_cpu(seconds=4.0 if quick else 60.0)
        out.update(stream_latency.stream_soak(ticks=1000 if quick else 10_000))
        return out
    return bench_gui(group, quick)


# -- driver ---------------------------------------------------------------------------------------


def _in_subprocess(group: str, quick: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--group", group] + (["--quick"] if quick else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"{group}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}"}
    return json.loads(lines[-1])


def _met(key: str, value: object) -> str:
    goal, op = GOALS[key]
    if goal is None or value is None:
        return "-"
    if op == "==":
        return "yes" if value == goal else "NO"
    return "yes" if isinstance(value, (int, float)) and value <= goal else "NO"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object as the last line")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes (smoke test)")
    parser.add_argument("--only", nargs="*", choices=sorted(GROUPS), help="run only these groups")
    parser.add_argument("--group", help=argparse.SUPPRESS)  # internal: run one group in this process
    args = parser.parse_args(argv)
    if args.group:
        print(json.dumps(run_group(args.group, args.quick), default=str))
        return 0
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    results: dict[str, object] = {}
    errors = []
    extra: dict[str, object] = {}
    for group in args.only or GROUPS:
        out = _in_subprocess(group, args.quick)
        if "error" in out:
            errors.append(out["error"])
        for key in GROUPS[group]:
            results[key] = out.get(key)
        extra.update({k: v for k, v in out.items() if k not in GOALS and k != "error"})
    results = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in results.items()}
    meta = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        # Other processes share the 2 cores: figures are only comparable at similar load.
        "load_avg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "quick": args.quick,
        "total_s": round(time.perf_counter() - started, 1),
        "met": {k: _met(k, v) for k, v in results.items()},
        "details": extra,
        "errors": errors,
    }
    if args.json:
        print(json.dumps({**results, "_meta": meta}, default=str))
    else:
        print(f"{'key':<28} {'goal':>8} {'measured':>10}  met")
        for key, value in results.items():
            goal, op = GOALS[key]
            goal_text = "" if goal is None else f"{op} {goal}"
            print(f"{key:<28} {goal_text:>8} {value!s:>10}  {_met(key, value)}")
        print(f"machine: {meta['machine']}; python {meta['python']}; total {meta['total_s']} s; "
              f"load avg {meta['load_avg_1m_before_after']}")
        for error in errors:
            print("error:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
