"""What a new database connection costs, direct and through PgBouncer (docs/scaling.md).

    .venv/bin/python bench/connect_cost.py --pgbouncer-port 6433 [--dbname postgres] [--runs 300]

Needs a PgBouncer already listening (scripts/pgbouncer_check.sh shows the configuration it uses).
Prints the p50 of `connect + SELECT 1 + close` and of `SELECT 1` on a kept connection, for
PostgreSQL on --port and for PgBouncer on --pgbouncer-port, in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg2


def connect_cost(kw: dict, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        conn = psycopg2.connect(**kw)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        conn.commit()
        conn.close()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def query_cost(kw: dict, runs: int) -> float:
    conn = psycopg2.connect(**kw)
    conn.autocommit = True
    timings = []
    with conn.cursor() as cur:
        for _ in range(runs):
            start = time.perf_counter()
            cur.execute("SELECT 1")
            cur.fetchone()
            timings.append((time.perf_counter() - start) * 1000)
    conn.close()
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--pgbouncer-port", type=int, default=6433)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--dbname", default="postgres")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    for name, port in (("direct", args.port), ("pgbouncer", args.pgbouncer_port)):
        kw = {"host": args.host, "port": port, "user": args.user, "dbname": args.dbname}
        print(
            f"{name:10s} connect+SELECT 1+close p50 {connect_cost(kw, args.runs):.2f} ms; "
            f"SELECT 1 on a kept connection p50 {query_cost(kw, args.runs * 5):.3f} ms"
        )


if __name__ == "__main__":
    main()
