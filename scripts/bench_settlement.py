#!/usr/bin/env python3
"""Benchmark of the settlement engine, as a user meets it: a release server, a CER of 1,000 PODs
(50 producers with one plant each, 950 consumers), a year of hourly readings and NORD prices,
a sharing-out policy; then monthly previews over HTTP, the whole year (12 previews), and a
finalisation.

Measures: the latency of POST /configurations/{id}/settlements for one month (median of 5),
the year (the 12 months in turn, wall clock), the finalisation of one month, and the server's
peak resident memory (VmHWM) before and after; and, in the same run on the same database, one
aggregate scan of the year's readings (`SELECT pod, direction, sum(wh) FROM readings GROUP BY
1, 2`, median of 3, psql or Python's sqlite3), the yardstick of issue 13's target: the year
within 3x that scan.

    python3 scripts/generate_readings.py --pods 1000 --producers 50 --out target/bench/settlement.csv
    python3 scripts/bench_settlement.py --database sqlite   --file target/bench/settlement.csv
    python3 scripts/bench_settlement.py --database postgres --file target/bench/settlement.csv

The scale run of issue 13 (10,000 PODs, a month of quarter-hours; see generate_readings.py):

    python3 scripts/bench_settlement.py --database postgres --file target/bench/scale.csv \
        --pods 10000 --producers 500 --month 4
"""
import argparse
import datetime as dt
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_meter_data import peak_rss_mb, request, start_server  # noqa: E402


def prices_csv(year):
    start = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc) - dt.timedelta(hours=1)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone.utc) - dt.timedelta(hours=1)
    lines = ["timestamp;zone;eur_mwh;interval_minutes"]
    t, h = start, 0
    while t < end:
        price = 60 + 90 * (1 + math.sin(2 * math.pi * h / 24)) / 2  # 60–150 €/MWh, daily cycle
        lines.append(f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')};NORD;{price:.2f};60")
        t += dt.timedelta(hours=1)
        h += 1
    return ("\n".join(lines) + "\n").encode()


def aggregate_scan_seconds(database):
    """Median of 3 runs of one aggregate scan of every reading, on the server's database."""
    sql = "SELECT pod, direction, sum(wh) FROM readings GROUP BY 1, 2"
    times = []
    for _ in range(3):
        if database == "sqlite":
            import sqlite3
            connection = sqlite3.connect(os.path.abspath("target/bench/run-sqlite/bench.db"))
            started = time.perf_counter()
            connection.execute(sql).fetchall()
            times.append(time.perf_counter() - started)
            connection.close()
        else:
            import subprocess
            out = subprocess.run(["psql", "postgres://postgres@127.0.0.1:5432/condivisa_bench", "-qAtc",
                                  f"\\timing on", "-c", f"{sql}"], capture_output=True, text=True, check=True).stdout
            line = [l for l in out.splitlines() if l.startswith("Time:")][-1]
            times.append(float(line.split()[1]) / 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--binary", default="target/release/condivisa")
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--producers", type=int, default=50)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--month", type=int, help="the data are this one month (default: the whole year)")
    args = parser.parse_args()

    server, token = start_server(args.database, args.binary)
    try:
        _, body = request("POST", "/api/v1/organizations/", token, {"name": "Bench"})
        org = json.loads(body)["id"]
        status, body = request("POST", "/api/v1/configurations/", token, {
            "name": "Bench CER", "type": "CER", "primary_substation": "AC001E00123", "market_zone": "NORD",
            "region": "piemonte", "organization_id": org, "municipality_population": 20000})
        assert status == 201, body
        configuration = json.loads(body)["id"]
        for p in range(args.pods):
            producer = p < args.producers
            status, body = request("POST", "/api/v1/members/", token, {
                "configuration_id": configuration, "pod": f"IT001E{p:08d}",
                "role": "producer" if producer else "consumer",
                "holder_type": "sme" if producer else ("natural_person" if p % 3 else "public_body"),
                "joined_at": "2024-01-01", "gse_notified_on": "2024-01-01"})
            assert status == 201, body
            if producer:
                member = json.loads(body)["id"]
                status, body = request("POST", "/api/v1/plants/", token, {
                    "member_id": member, "name": f"PV {p}", "source": "pv", "power_kw": str(10 + p % 5),
                    "commissioned_on": (dt.date(2024, 1, 1) + dt.timedelta(days=3 * (p % 300))).isoformat(),
                    "gse_notified_on": (dt.date(2024, 1, 1) + dt.timedelta(days=3 * (p % 300))).isoformat(),
                    "capital_grant_share": "0.40" if p % 4 == 0 else "0"})
                assert status == 201, body
        status, body = request("PATCH", f"/api/v1/configurations/{configuration}", token, {"status": "active"})
        assert status == 200, body
        status, body = request("PUT", f"/api/v1/configurations/{configuration}/policy", token, {
            "valid_from": f"{args.year}-01-01",
            "document": {"shares": {"management": "10", "social_fund": "5", "producers": "40", "consumers": "45"},
                         "producers_split": "by_incentivised_energy", "consumers_split": "by_shared_withdrawal",
                         "excess_to": "non_business_consumers"}})
        assert status == 201, body
        status, body = request("POST", "/api/v1/market/zonal-prices", token, body=prices_csv(args.year), content_type="text/csv")
        assert status == 201, body
        size = os.path.getsize(args.file)
        with open(args.file, "rb") as stream:
            started = time.perf_counter()
            status, body = request("POST", f"/api/v1/configurations/{configuration}/readings", token,
                                   stream=stream, length=size, content_type="text/csv")
        assert status == 201, body[:2000]
        readings = json.loads(body)["intervals"]
        import_seconds = time.perf_counter() - started
        rss_before = peak_rss_mb(server.pid)

        def preview(month):
            started = time.perf_counter()
            status, body = request("POST", f"/api/v1/configurations/{configuration}/settlements", token,
                                   {"period": f"{args.year}-{month:02d}"})
            seconds = time.perf_counter() - started
            assert status == 201, body[:2000]
            return seconds, json.loads(body)

        month_latencies = []
        for _ in range(5):
            seconds, run = preview(args.month or 3)
            month_latencies.append(seconds)
        started = time.perf_counter()
        months = [args.month] if args.month else range(1, 13)
        year = [preview(month)[1] for month in months]
        year_seconds = time.perf_counter() - started
        started = time.perf_counter()
        status, body = request("POST", f"/api/v1/settlements/{run['id']}/finalize", token, {})
        finalize_seconds = time.perf_counter() - started
        assert status == 200, body
        written = json.loads(body)["transactions_written"]
        rss_after = peak_rss_mb(server.pid)
        scan_seconds = aggregate_scan_seconds(args.database)
    finally:
        server.terminate()
        server.wait()

    premium = sum(r["report"]["money"]["premium_cents"] for r in year) / 100
    shared = sum(float(r["report"]["totals"]["shared_kwh"]) for r in year)
    print(f"\n## {args.database}: {args.pods} PODs, {args.producers} plants, {readings:,} readings ({args.year})\n")
    print(f"- readings imported in {import_seconds:.1f} s ({readings / import_seconds:,.0f} readings/s); server peak RSS before settling {rss_before:.0f} MB, after {rss_after:.0f} MB")
    label = f"month {args.month}" if args.month else "March"
    print(f"- monthly preview ({label}, {len(run['report']['members'])} members), 5 requests: median {statistics.median(month_latencies) * 1000:.0f} ms, "
          f"min {min(month_latencies) * 1000:.0f} ms, max {max(month_latencies) * 1000:.0f} ms")
    print(f"- {len(year)} monthly preview(s) in turn: {year_seconds:.2f} s "
          f"(shared {shared:,.0f} kWh, premium {premium:,.2f} EUR)")
    print(f"- one aggregate scan of the year's readings: {scan_seconds:.2f} s; the year took "
          f"{year_seconds / scan_seconds:.2f}x that (target: at most 3x)")
    print(f"- finalising {label} ({written} ledger rows, inputs re-checked): {finalize_seconds * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
