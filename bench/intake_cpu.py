"""Where an order's CPU goes: processor time per request of the production server (gunicorn's workers), PostgreSQL
(every backend) and the load clients, for the minimal create view, REST intake and REST intake without a category,
measured from /proc around each run of bench/load_bench.py's clients. The machine's speed drifts (it is shared);
CPU per request drifts less than requests per second, so this says better than a rate what a change saved.

Usage: .venv/bin/python bench/intake_cpu.py [--workers 2] [--clients 8] [--seconds 15] [--threads 8]
       (the project's PostgreSQL from scripts/pg, as load_bench.py; Linux only: it reads /proc)
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_bench as lb


def ticks(pids: list[int], *, reaped: bool = False) -> int:
    """User + system clock ticks of these processes (those that ended meanwhile count 0); with `reaped`, also of
    their children that ended and were waited for (a gunicorn worker replaced meanwhile)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return total


def server_ticks(master: int) -> int:
    """gunicorn's master, its workers now, and the workers it has replaced (reaped into the master's counts)."""
    return ticks([master], reaped=True) + ticks(processes("-P", str(master)))


def processes(*pgrep: str) -> list[int]:
    found = subprocess.run(["pgrep", *pgrep], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    env, order, unclassified, auth = lb.prepare()
    py = sys.executable
    port = lb.free_port()
    server = lb.serve(py, env, port, args.workers, args.threads, args.threads)
    hz = os.sysconf("SC_CLK_TCK")
    print(f"{args.workers} workers × {args.threads} threads, {args.clients} clients, {args.seconds:.0f} s per run")
    columns = f"{'server':>7} {'database':>9} {'clients':>8}"
    print(f"{'endpoint':<24} {'req/s':>8} {'p99 ms':>8}   CPU ms per request: {columns}")
    try:
        endpoints = [
            ("minimal create view", "/bench/create/", {}, order),
            ("REST intake", "/api/v1/orders", auth, order),
            ("REST intake, classified", "/api/v1/orders", auth, unclassified),
        ]
        for name, path, headers, body in endpoints:
            lb.run(port, path, lb.always(body), headers, args.clients, 3)  # warm
            database = processes("-x", "postgres")  # the postmaster (with the backends it reaped) and its backends
            web0, db0, own0 = server_ticks(server.pid), ticks(database, reaped=True), os.times()
            r = lb.run(port, path, lb.always(body), headers, args.clients, args.seconds)
            web1, db1, own1 = server_ticks(server.pid), ticks(processes("-x", "postgres"), reaped=True), os.times()
            n = max(1, r["ok"])
            own = (own1.user + own1.system) - (own0.user + own0.system)
            print(
                f"{name:<24} {r['per_s']:>8.1f} {r['p99']:>8.1f}   {'':>20} {(web1 - web0) / hz / n * 1000:>7.2f} "
                f"{(db1 - db0) / hz / n * 1000:>9.2f} {own / n * 1000:>8.2f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(60)
    print(f"load {lb.load()}")


if __name__ == "__main__":
    main()
