"""Benchmark of the monthly 三率 assessment at Beijing's scale, beside a plain reference in the same run.

1. Generates synthetic facts with `jiesu.demo.generator` for a city of Beijing's size (343 streets and
   townships, 79 departments, 58 companies): one month of 2,000,000 orders and a year of 24,000,000 (12 × 2 M),
   as Parquet files, the layout of the columnar copy. Prints the generation rate (target ≥ 50,000 orders/s).
2. Production path, in a fresh child process so its peak memory is its own: DuckDB sums over the Parquet files
   (`engine.aggregate`), then `engine.finish` per month (rates, scores, ranks, month-on-month change, lists).
   Times the month and the whole year (targets: < 1 s and < 10 s, peak memory < 4 GB).
3. Reference: `jiesu.assessment.reference`, one Python loop over every fact row with exact fractions and its
   own ranking. Every unit's counts, rates, score and rank must be identical; the script exits 1 otherwise.

Usage: .venv/bin/python bench/assess_bench.py [--month-orders 2000000] [--months 12] [--dir /tmp/jiesu-assess]
No thresholds are asserted: the numbers are printed next to their targets.
"""

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")  # benchmarks use the demo city and its generators

import django

django.setup()

import pyarrow.parquet as pq  # noqa: E402

from jiesu.assessment import engine  # noqa: E402
from jiesu.assessment import reference_engine as reference  # noqa: E402
from jiesu.assessment.models import RuleSet  # noqa: E402
from jiesu.assessment.rules import Rules, month_key  # noqa: E402
from jiesu.demo import generator  # noqa: E402

LAST = dt.date(2026, 10, 1)


def rules() -> Rules:
    return Rules.of(RuleSet(name="default", effective_from=dt.date(2020, 1, 1)))


def units() -> dict[int, engine.Unit]:
    return {u.id: engine.Unit(u.id, f"U{u.id:04d}", u.kind) for u in generator.synthetic_units()}


def generate(out: Path, months: list[dt.date], per_month: int, seed: int) -> float:
    gen = generator.Generator(generator.synthetic_units(), seed=seed)
    started = time.perf_counter()
    made = generator.write_parquet(gen, months, per_month * len(months), out)
    seconds = time.perf_counter() - started
    print(
        f"  generated {made:,} orders ({len(months)} months) in {seconds:.2f} s = {made / seconds:,.0f} orders/s"
        "  (target ≥ 50,000/s)"
    )
    return seconds


def production(files: list[Path], months: list[dt.date]) -> dict[str, object]:
    """The production path; returns the results (as JSON) and its time."""
    r, u = rules(), units()
    started = time.perf_counter()
    counts = engine.aggregate(engine.parquet_source(files), {month_key(m): r for m in months})
    aggregated = time.perf_counter()
    previous: dict[int, object] = {}
    out: dict[str, object] = {}
    for m in months:
        results = engine.finish(counts[month_key(m)], u, r, previous=previous)  # type: ignore[arg-type]
        previous = {x.unit_id: x.score for x in results}
        out[f"{m:%Y-%m}"] = {str(x.unit_id): x.as_json() for x in results}
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "aggregate_seconds": aggregated - started,
        "results": out,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def reference_run(files: list[Path], months: list[dt.date]) -> tuple[dict[str, dict[int, dict[str, object]]], float]:
    r = rules()
    kinds = {u.id: (f"U{u.id:04d}", u.kind) for u in generator.synthetic_units()}
    started = time.perf_counter()
    out = {}
    for path, m in zip(files, months, strict=True):
        table = pq.read_table(path)
        names = table.column_names
        columns = [table.column(n).to_pylist() for n in names]
        rows = (dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True))
        out[f"{m:%Y-%m}"] = reference.assess(rows, kinds, r)
        del columns
    return out, time.perf_counter() - started


def compare(prod: dict[str, dict[str, dict[str, object]]], ref: dict[str, dict[int, dict[str, object]]]) -> int:
    keys = (
        "volume",
        "excluded",
        "responded",
        "judged",
        "resolved_milli",
        "rated",
        "satisfied_milli",
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "score",
        "rank",
    )
    differences = 0
    for month, units_ in ref.items():
        p = prod[month]
        if set(p) != {str(u) for u in units_}:
            differences += 1
            print(f"  {month}: different unit sets")
            continue
        for unit_id, fig in units_.items():
            for k in keys:
                a, b = p[str(unit_id)][k], fig[k]
                if (str(a) if a is not None else None) != (str(b) if b is not None else None):
                    differences += 1
                    if differences <= 5:
                        print(f"  DIFFERENT {month} unit {unit_id} {k}: production {a} vs reference {b}")
    return differences


def child(args: argparse.Namespace) -> None:
    files = [Path(f) for f in args.files.split(",")]
    months = [dt.date.fromisoformat(m + "-01") for m in args.month_list.split(",")]
    production(files[:1], months[:1])  # warm-up: imports, DuckDB start
    result = production(files, months)
    Path(args.result).write_text(json.dumps(result))


def run_child(files: list[Path], months: list[dt.date], result: Path) -> dict[str, object]:
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "--files",
            ",".join(map(str, files)),
            "--month-list",
            ",".join(f"{m:%Y-%m}" for m in months),
            "--result",
            str(result),
        ],
        check=True,
    )
    return json.loads(result.read_text())  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month-orders", type=int, default=2_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/jiesu-assess-bench"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--files")
    parser.add_argument("--month-list")
    parser.add_argument("--result")
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    months = generator.months_back(LAST, args.months)
    print(f"== generating: {args.month_orders:,} orders a month, {args.months} months, into {args.dir}")
    generate(args.dir, months, args.month_orders, args.seed)
    files = [args.dir / "facts" / f"{m:%Y-%m}.parquet" for m in months]
    failures = 0
    for label, subset, target in (("one month", months[-1:], 1.0), ("the year", months, 10.0)):
        n = args.month_orders * len(subset)
        print(f"\n== {label}: {n:,} orders")
        prod = run_child(files[-len(subset) :], subset, args.dir / "result.json")
        print(
            f"  production (DuckDB + finish): {prod['seconds']:.3f} s (target < {target:.0f} s); "
            f"DuckDB part {prod['aggregate_seconds']:.3f} s; peak memory {prod['maxrss_mb']:,.0f} MB (target < 4,096)"
        )
        ref, ref_seconds = reference_run(files[-len(subset) :], subset)
        print(f"  reference (Python loop, exact fractions): {ref_seconds:.1f} s")
        differences = compare(prod["results"], ref)  # type: ignore[arg-type]
        units_ = sum(len(v) for v in ref.values())
        print(
            f"  compared {units_:,} unit-months × 12 figures: "
            + ("IDENTICAL" if not differences else f"{differences} DIFFERENCES")
        )
        failures += differences
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
