"""Run every benchmark in bench/ and write bench/REPORT.md and bench/latency.svg.

    .venv/bin/python bench/run_all.py                  # full sizes, about 7 minutes on 2 cores
    .venv/bin/python bench/run_all.py --quick          # smaller sizes, about 3 minutes
    .venv/bin/python bench/run_all.py --only hub_roundtrip kiosk_tap

Each script runs as its own process (this interpreter), one after the other, under a timeout;
its printed table goes into the report verbatim, and a summary table at the top puts each figure
beside its same-run baseline and its goal. A script that fails or times out is reported (exit
code, last lines) and the others still run; the exit status is 1 if any failed. Needs
PostgreSQL at 127.0.0.1:5432 (trust auth) and /usr/sbin/mosquitto, like the scripts themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_svg import latency_svg  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MOSQUITTO = "/usr/sbin/mosquitto"
TAIL_LINES = 25


@dataclass(frozen=True)
class Row:
    """One line of the summary table."""

    benchmark: str
    ours: str
    baseline: str = "—"
    ratio: str = "—"
    goal: str = "none"
    met: str = "—"


@dataclass(frozen=True)
class Benchmark:
    """A script, its arguments for a full and a quick run, and how to read its output."""

    name: str
    summary: Callable[[str], list[Row]]
    full: list[str] = field(default_factory=list)
    quick: list[str] = field(default_factory=list)
    timeout_s: float = 300
    samples: bool = False  # takes --samples PATH (raw latencies for the plot)

    @property
    def script(self) -> Path:
        return BENCH / f"{self.name}.py"


@dataclass
class Outcome:
    """What one script did: its output, exit code and wall time."""

    benchmark: Benchmark
    args: list[str]
    stdout: str
    stderr: str
    returncode: int | None  # None: killed at the timeout
    elapsed_s: float
    samples_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Context:
    """When, where and how the run was made, for the report's header."""

    date: str
    command: str
    quick: bool
    machine: dict[str, str]
    load_start: str
    load_end: str = ""
    wall: str = ""


# --- reading the scripts' tables ----------------------------------------------------------


def number(text: str) -> float:
    """Return ``text`` ("12,088", "1.31x") as a float."""
    return float(text.replace(",", "").rstrip("x"))


def verdict(met: bool) -> str:
    return "yes" if met else "**NO**"


def ratio_text(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}x"


def summarize_import(out: str) -> list[Row]:
    """Time and rows/s of the CSV import per backend, beside raw executemany."""
    rows = int(number(re.search(r"Import of ([\d,]+) members", out).group(1)))
    found = re.findall(
        r"^(sqlite|postgresql)\s+([\d.]+)\s+([\d,]+)\s+([\d.]+)\s+([\d,]+)\s+([\d.]+)x", out, re.M
    )
    return [
        Row(
            f"import {rows:,} members ({backend})",
            f"{secs} s ({rate} rows/s)",
            f"{raw_secs} s ({raw_rate} rows/s, raw executemany)",
            f"{ratio}x the time",
            "none (time shown)",
        )
        for backend, secs, rate, raw_secs, raw_rate, ratio in found
    ] or _unparsed("import members")


def summarize_hub_roundtrip(out: str) -> list[Row]:
    """member_status (goal on p50) and tool_status (no goal) beside the bare echo."""
    table = {
        name.strip(): (number(p50), number(p99))
        for name, p50, p99 in re.findall(
            r"^(.+?)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+[\d.]+x$", out, re.M
        )
    }
    echo, again = table["bare echo"], table.get("bare echo, again")
    rows = []
    for label, key, goal in (
        ("MQTT request/response: hub member_status", "hub member_status", 1.5),
        ("MQTT request/response: hub tool_status", "hub tool_status", None),
    ):
        ours = next(value for name, value in table.items() if name.startswith(key))
        for index, quantile in enumerate(("p50", "p99")):
            after = f" ({again[index]:.3f} ms in a second echo run after)" if again else ""
            ratio = ours[index] / echo[index]
            has_goal = goal is not None and quantile == "p50"
            rows.append(
                Row(
                    f"{label} {quantile}",
                    f"{ours[index]:.3f} ms",
                    f"{echo[index]:.3f} ms bare echo{after}",
                    f"{ratio:.2f}x",
                    f"≤ {goal}x bare echo" if has_goal else "none",
                    verdict(ratio <= (goal or 0)) if has_goal else "—",
                )
            )
    return rows


def summarize_hub_ingest(out: str) -> list[Row]:
    """Events/s committed and acked per backend beside a bare subscriber and a bare echo."""
    events = re.search(r"Ingest of ([\d,]+) events", out).group(1)
    rows = []
    for backend, hub, raw, ratio, echo, echo_ratio in re.findall(
        r"^(sqlite|postgresql)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)x\s+([\d,]+)\s+([\d.]+)x",
        out,
        re.M,
    ):
        goal = backend == "sqlite"  # the goal is set on the kiosk-scale default database
        rows.append(
            Row(
                f"ingest {events} events, realistic mix ({backend})",
                f"{hub} events/s",
                f"{raw} msg/s bare subscriber; {echo} msg/s bare echo ({echo_ratio}x)",
                f"{ratio}x",
                "≥ 0.5x bare subscriber" if goal else "none",
                verdict(number(ratio) >= 0.5) if goal else "—",
            )
        )
    return rows or _unparsed("ingest")


def summarize_tap(out: str) -> list[Row]:
    """Tap-to-unlock p99 (goal) and p50 beside the reader pulsing the relay directly."""

    def quantiles(prefix: str) -> tuple[float, float]:
        found = re.search(prefix + r".*?p50 ([\d.]+) ms\s+p99 ([\d.]+) ms", out)
        return number(found.group(1)), number(found.group(2))

    base, kiosk = quantiles(r"baseline \("), quantiles(r"kiosk \(")
    return [
        Row(
            "tap-to-unlock p99",
            f"{kiosk[1]:.3f} ms",
            f"{base[1]:.3f} ms reader → relay directly",
            ratio_text(kiosk[1], base[1]),
            "< 5 ms",
            verdict(kiosk[1] < 5),
        ),
        Row(
            "tap-to-unlock p50",
            f"{kiosk[0]:.3f} ms",
            f"{base[0]:.3f} ms reader → relay directly",
            ratio_text(kiosk[0], base[0]),
        ),
    ]


def summarize_memory(out: str) -> list[Row]:
    """Kiosk RSS idle and after its events, beside python + paho alone."""
    base = number(re.search(r"baseline python \+ paho RSS:\s+([\d.]+) MB", out).group(1))
    rows = []
    for label, pattern in (
        ("idle", r"kiosk RSS idle:\s+([\d.]+) MB"),
        ("after events", r"kiosk RSS after ([\d,]+) events:\s+([\d.]+) MB"),
    ):
        found = re.search(pattern, out)
        rss = number(found.group(found.lastindex))
        what = f"after {found.group(1)} events" if found.lastindex == 2 else label
        rows.append(
            Row(
                f"kiosk RSS {what}",
                f"{rss:.1f} MB",
                f"{base:.1f} MB python + paho",
                ratio_text(rss, base),
                "< 60 MB",
                verdict(rss < 60),
            )
        )
    return rows


def summarize_allowlist(out: str) -> list[Row]:
    """Publish → decide for the big allow-list, beside a raw paho client receiving it."""
    cards = re.search(r"allow-list of ([\d,]+) cards", out).group(1)
    raw = number(re.search(r"raw paho receive\):\s+([\d.]+) ms", out).group(1))
    kiosk = number(re.search(r"store -> tap\):\s+([\d.]+) ms", out).group(1))
    return [
        Row(
            f"allow-list of {cards} cards, publish → decide",
            f"{kiosk:.1f} ms",
            f"{raw:.1f} ms raw paho receive",
            ratio_text(kiosk, raw),
            "< 1 s",
            verdict(kiosk < 1000),
        )
    ]


LEDGER_PAIRS = {  # measure -> the baseline it is set beside
    "balance of one member": "baseline: SELECT 1 round trip",
    "balance sheet (all accounts)": "baseline: SELECT 1 round trip",
    "post a transfer (exchange_hours)": "baseline: raw 1-row insert + commit",
}


def summarize_ledger(out: str) -> list[Row]:
    """Each ledger operation's p50 / p99 per backend, beside its raw database baseline."""
    header = re.search(r"^measure\s+(.+)$", out, re.M).group(1).split()
    entries = re.search(r"ledger: ([\d,]+) entries", out).group(1)
    measures, table = [*LEDGER_PAIRS, *LEDGER_PAIRS.values()], {}
    for line in out.splitlines():
        name = next((m for m in measures if line.startswith(m)), None)
        if name:
            cells = [number(v) for v in re.findall(r"[\d.]+", line[len(name) :])]
            table[name] = {b: cells[2 * i : 2 * i + 2] for i, b in enumerate(header)}
    rows = []
    for backend in header:
        for measure, baseline in LEDGER_PAIRS.items():
            ours, base = table[measure][backend], table[baseline][backend]
            what = baseline.removeprefix("baseline: ")
            rows.append(
                Row(
                    f"ledger ({entries} entries, {backend}): {measure}",
                    f"p50 {ours[0]:.3f}, p99 {ours[1]:.3f} ms",
                    f"p50 {base[0]:.3f}, p99 {base[1]:.3f} ms {what}",
                    f"{ours[0] / base[0]:.1f}x (p50)",
                )
            )
    return rows


def summarize_bookings(out: str) -> list[Row]:
    """Availability and booking under contention per backend, beside their raw baselines."""
    rows = []
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != 7 or cells[0] not in ("sqlite", "postgresql"):
            continue
        backend, measure, ours, ours_p99, baseline, base, base_p99 = cells
        per_second = "/s" in measure
        first = "{}/s" if per_second else "median {} ms"
        rows.append(
            Row(
                f"bookings ({backend}): {re.sub(r' [(].*[)]$', '', measure)}",
                f"{first.format(ours)}, p99 {ours_p99} ms",
                f"{first.format(base)}, p99 {base_p99} ms {re.sub(r' [(].*[)]$', '', baseline)}",
                f"{ratio_text(number(ours), number(base))} ({'rate' if per_second else 'median'})",
            )
        )
    return rows or _unparsed("bookings")


def summarize_dashboard(out: str) -> list[Row]:
    """Each page's p99 per backend beside a constant route's; the front page has a goal."""
    rows = []
    trivial = {
        backend: p99
        for backend, p99 in re.findall(
            r"^(sqlite|postgresql)\s+constant route.*?\s([\d.]+)\s+[\d.]+x$", out, re.M
        )
    }
    for backend, page, p50, p99, ratio in re.findall(
        r"^(sqlite|postgresql)\s+(/steward.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x$", out, re.M
    ):
        goal = "(front page)" in page
        rows.append(
            Row(
                f"dashboard ({backend}): {page.strip()} p99",
                f"{p99} ms (p50 {p50})",
                f"{trivial[backend]} ms constant route",
                f"{ratio}x",
                "≤ 10x trivial" if goal else "none",
                verdict(number(ratio) <= 10) if goal else "—",
            )
        )
    return rows or _unparsed("dashboard")


def summarize_nothing(_out: str) -> list[Row]:
    """Add no summary row: the script measures a baseline on its own (shown below)."""
    return []


def _unparsed(name: str) -> NoReturn:
    """Raise: the script's table was not where expected (summary_rows says "see below")."""
    raise ValueError(f"no {name} figures found")


BENCHMARKS = [
    Benchmark("import_members", summarize_import, ["--rows", "10000"], ["--rows", "10000"], 180),
    Benchmark("mqtt_roundtrip", summarize_nothing, [], ["--count", "500", "--warmup", "100"], 120),
    Benchmark("mqtt_ingest_baseline", summarize_nothing, [], ["--count", "5000"], 180),
    Benchmark(
        "hub_roundtrip_bench",
        summarize_hub_roundtrip,
        [],
        ["--count", "1000", "--warmup", "100"],
        240,
        samples=True,
    ),
    Benchmark("hub_ingest_bench", summarize_hub_ingest, [], ["--events", "3000"], 300),
    Benchmark("kiosk_tap_bench", summarize_tap, [], [], 120, samples=True),
    Benchmark("kiosk_memory_bench", summarize_memory, [], [], 240),
    Benchmark("kiosk_allowlist_bench", summarize_allowlist, [], [], 120),
    Benchmark(
        "ledger_bench",
        summarize_ledger,
        ["--entries", "1000000"],
        ["--entries", "100000", "--posts", "200"],
        420,
    ),
    Benchmark(
        "bookings_bench",
        summarize_bookings,
        ["--bookings", "100000"],
        ["--bookings", "20000", "--attempts", "200"],
        420,
    ),
    Benchmark("dashboard_bench", summarize_dashboard, [], ["--requests", "50"], 420),
]


# --- running ------------------------------------------------------------------------------


def run(benchmark: Benchmark, args: list[str], samples_dir: Path) -> Outcome:
    """Run one script to completion or its timeout; never raise for the script's sake."""
    command = [sys.executable, str(benchmark.script), *args]
    samples_path = None
    if benchmark.samples:
        samples_path = samples_dir / f"{benchmark.name}.json"
        command += ["--samples", str(samples_path)]
    started = time.monotonic()
    # A session of its own, so a timeout also ends the brokers and hubs the script started.
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=benchmark.timeout_s)
        returncode = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        stderr += f"\n(killed after the {benchmark.timeout_s:.0f} s timeout)"
        returncode = None
    return Outcome(
        benchmark,
        args,
        stdout,
        stderr,
        returncode,
        time.monotonic() - started,
        samples_path if samples_path and samples_path.exists() else None,
    )


def run_all(chosen: list[Benchmark], quick: bool, samples_dir: Path) -> list[Outcome]:
    """Run the chosen scripts one after the other, printing progress."""
    outcomes, began = [], time.monotonic()
    for position, benchmark in enumerate(chosen, 1):
        args = benchmark.quick if quick else benchmark.full
        print(f"[{position}/{len(chosen)}] {benchmark.name} {' '.join(args)}".rstrip(), flush=True)
        outcome = run(benchmark, args, samples_dir)
        status = "ok" if outcome.ok else _failure(outcome)
        print(
            f"    {status} in {outcome.elapsed_s:.1f} s (total {_clock(time.monotonic() - began)})",
            flush=True,
        )
        if not outcome.ok:
            print(_indent(_tail(outcome)), flush=True)
        outcomes.append(outcome)
    return outcomes


def _failure(outcome: Outcome) -> str:
    if outcome.returncode is None:
        return f"TIMED OUT ({outcome.benchmark.timeout_s:.0f} s)"
    return f"FAILED (exit {outcome.returncode})"


def _tail(outcome: Outcome) -> str:
    lines = [line for line in (outcome.stdout + "\n" + outcome.stderr).splitlines() if line.strip()]
    return "\n".join(lines[-TAIL_LINES:])


def _indent(text: str) -> str:
    return "\n".join("    | " + line for line in text.splitlines())


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


# --- the machine --------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """Describe this machine and the versions of what the benchmarks run on."""
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL server": _postgres_version(),
        "Mosquitto": _mosquitto_version(),
        "OS": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return found.group(1).strip() if found else "unknown"


def _postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=5) as connection:
            return connection.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # noqa: BLE001 - the report says why instead of failing
        return f"unavailable ({type(error).__name__})"


def _mosquitto_version() -> str:
    try:
        # `mosquitto -h` prints its version first, then usage, and exits non-zero.
        done = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({type(error).__name__})"
    found = re.search(r"version (\S+)", done.stdout + done.stderr)
    return found.group(1) if found else "unknown"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


# --- the report ---------------------------------------------------------------------------


def summary_rows(outcomes: list[Outcome]) -> list[Row]:
    """Return the summary rows; a script that failed or printed something unexpected gets
    one row pointing at its section instead of stopping the report."""
    rows = []
    for outcome in outcomes:
        name = outcome.benchmark.name
        if not outcome.ok:
            rows.append(Row(name, _failure(outcome).lower(), "see below", "", "", "see below"))
            continue
        try:
            rows += outcome.benchmark.summary(outcome.stdout)
        except Exception:  # noqa: BLE001 - a changed table must not lose the whole report
            rows.append(Row(name, "see below", "see below", "", "", "see below"))
    return rows


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| benchmark | our figure | same-run baseline | ratio | goal | met? |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.benchmark} | {r.ours} | {r.baseline} | {r.ratio} | {r.goal} | {r.met} |"
        for r in rows
    ]
    return "\n".join(lines)


def section(outcome: Outcome) -> str:
    """Return one benchmark's part of the report: its command and printed output."""
    benchmark = outcome.benchmark
    doc = _first_docstring_line(benchmark.script)
    head = [
        f"### {benchmark.name}",
        "",
        doc,
        "",
        f"`{_shown_command(outcome)}` — {outcome.elapsed_s:.0f} s",
        "",
    ]
    if outcome.ok:
        return "\n".join([*head, "```text", outcome.stdout.rstrip(), "```", ""])
    return "\n".join(
        [*head, f"**{_failure(outcome)}.** Last lines:", "", "```text", _tail(outcome), "```", ""]
    )


def _shown_command(outcome: Outcome) -> str:
    # Without --samples: run_all adds it for the plot; the table is the same without it.
    return " ".join([".venv/bin/python", f"bench/{outcome.benchmark.name}.py", *outcome.args])


def _first_docstring_line(script: Path) -> str:
    found = re.search(r'"""(.+)', script.read_text())
    return found.group(1).strip() if found else ""


def report(outcomes: list[Outcome], context: Context, plotted: bool) -> str:
    """Return REPORT.md."""
    parts = [
        "# Benchmarks",
        "",
        f"Written by `bench/run_all.py` on {context.date}: each figure beside a baseline "
        "measured in the same run, on the same machine, one script at a time. See "
        "[README.md](README.md) for what each benchmark measures.",
        "",
        f"Command: `{context.command}`" + (" (quick sizes)" if context.quick else ""),
        "",
        "## Summary",
        "",
        "Ratio = our figure ÷ baseline (for rates, above 1 is faster; for times, below 1 is "
        'faster). Goals are from issue 8; "none" means the figure is reported, not judged.',
        "`mqtt_roundtrip` and `mqtt_ingest_baseline` measure baselines alone: their figures "
        "are in their sections below.",
        "",
        markdown_table(summary_rows(outcomes)),
        "",
    ]
    if plotted:
        parts += [
            "## Latency distributions",
            "",
            "![latency distributions](latency.svg)",
            "",
            "Empirical CDFs of the raw samples behind the round-trip and tap-to-unlock "
            "figures above: log time axis; the vertical axis is stretched towards the tail "
            "(50, 90, 99, 99.9 %) so that the p99s the goals judge are as readable as the "
            "medians.",
            "",
        ]
    parts += ["## Machine", "", *_machine_lines(context), "", "## Each benchmark", ""]
    parts += [section(outcome) for outcome in outcomes]
    return "\n".join(parts).rstrip() + "\n"


def _machine_lines(context: Context) -> list[str]:
    lines = [f"- {key}: {value}" for key, value in context.machine.items()]
    lines += [
        f"- Load average at start: {context.load_start}",
        f"- Load average at end: {context.load_end}",
        f"- Wall time: {context.wall}",
        "",
        "This machine is shared with other work and noisy: a load average above its CPU count "
        "means the benchmarks competed for the CPUs, which shows most in tail latencies (p99, "
        "max). That is why each figure stands beside a baseline measured in the same run; "
        "compare ratios, not absolute times, across runs.",
    ]
    return lines


def write_plot(outcomes: list[Outcome]) -> bool:
    """Write bench/latency.svg from the scripts' raw samples; return whether it was written."""
    samples = {
        o.benchmark.name: json.loads(o.samples_path.read_text())
        for o in outcomes
        if o.ok and o.samples_path
    }
    if not samples:
        return False
    (BENCH / "latency.svg").write_text(
        latency_svg(
            samples.get("hub_roundtrip_bench"),
            samples.get("kiosk_tap_bench"),
            datetime.now(UTC).strftime("%Y-%m-%d"),
        )
    )
    return True


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about 3 minutes)")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help=f"run only these (a prefix is enough): {', '.join(names)}",
    )
    return parser.parse_args(argv)


def choose(only: list[str] | None) -> list[Benchmark]:
    """Return the benchmarks to run: those present, filtered by --only name prefixes."""
    present = [b for b in BENCHMARKS if b.script.exists()]  # dashboard_bench may be absent
    if not only:
        return present
    unknown = [name for name in only if not any(b.name.startswith(name) for b in present)]
    if unknown:  # a typo should not quietly run less than was asked for
        raise SystemExit(
            f"no benchmark matches {unknown}; choose from {', '.join(b.name for b in present)}"
        )
    return [b for b in present if any(b.name.startswith(name) for name in only)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = choose(args.only)
    context = Context(
        date=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        command=" ".join([".venv/bin/python", "bench/run_all.py", *(argv or sys.argv[1:])]),
        quick=args.quick,
        machine=machine(),
        load_start=load_average(),
    )
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-samples-") as samples_dir:
        outcomes = run_all(chosen, args.quick, Path(samples_dir))
        plotted = write_plot(outcomes)
    context.load_end, context.wall = load_average(), _clock(time.monotonic() - began)
    (BENCH / "REPORT.md").write_text(report(outcomes, context, plotted))
    failed = [o.benchmark.name for o in outcomes if not o.ok]
    print(
        f"wrote bench/REPORT.md{' and bench/latency.svg' if plotted else ''} "
        f"in {context.wall}" + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
