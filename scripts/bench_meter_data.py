#!/usr/bin/env python3
"""Benchmark of the meter-data path, as a user meets it: a release server, a configuration of
1,000 PODs, a year of hourly readings uploaded over HTTP, then the yearly daily series.

Measures: import throughput (readings/s, wall clock of the upload request), the server's peak
resident memory (VmHWM) during the import, an idempotent re-import, and the latency of
GET /configurations/{id}/energy?granularity=day for the whole year.

    python3 scripts/generate_readings.py --pods 1000 --out target/bench/readings.csv
    python3 scripts/bench_meter_data.py --database sqlite   --file target/bench/readings.csv
    python3 scripts/bench_meter_data.py --database postgres --file target/bench/readings.csv
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def request(method, path, token=None, body=None, content_type="application/json", stream=None, length=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode() if content_type == "application/json" else body
        headers["Content-Type"] = content_type
    if stream is not None:
        data = stream
        headers["Content-Type"] = content_type
        headers["Content-Length"] = str(length)
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=3600) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_server(database, binary):
    """A release server on a fresh database (SQLite file or PostgreSQL `condivisa_bench`); returns
    the process and an admin's access token."""
    workdir = os.path.abspath(f"target/bench/run-{database}")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    if database == "sqlite":
        url = f"sqlite://{workdir}/bench.db?mode=rwc"
    else:
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS condivisa_bench WITH (FORCE)"], check=True)
        subprocess.run(["psql", PG_ADMIN, "-qc", "CREATE DATABASE condivisa_bench"], check=True)
        url = "postgres://postgres@127.0.0.1:5432/condivisa_bench"
    env = dict(os.environ, DATABASE_URL=url, BIND_ADDRESS=f"127.0.0.1:{PORT}", SECRET_KEY="bench-secret-key-of-at-least-32-characters",
               FIRST_SUPERUSER_EMAIL="admin@example.com", FIRST_SUPERUSER_PASSWORD="bench-password",
               RUST_LOG=os.environ.get("BENCH_LOG", "warn"), LOG_FORMAT="json")
    server = subprocess.Popen([os.path.abspath(binary), "serve"], cwd=workdir, env=env)
    for _ in range(100):
        try:
            if request("GET", "/health")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    form = urllib.parse.urlencode({"username": "admin@example.com", "password": "bench-password"}).encode()
    status, body = request("POST", "/api/v1/login/access-token", body=form, content_type="application/x-www-form-urlencoded")
    assert status == 200, body
    return server, json.loads(body)["access_token"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--binary", default="target/release/condivisa")
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--query", default="", help="the import's query, e.g. direction=withdrawal for an XML month")
    args = parser.parse_args()

    server, token = start_server(args.database, args.binary)
    try:
        _, body = request("POST", "/api/v1/organizations/", token, {"name": "Bench"})
        org = json.loads(body)["id"]
        _, body = request("POST", "/api/v1/configurations/", token, {
            "name": "Bench CER", "type": "CER", "primary_substation": "AC001E00123", "market_zone": "NORD",
            "region": "piemonte", "organization_id": org})
        configuration = json.loads(body)["id"]
        started = time.perf_counter()
        for p in range(args.pods):
            status, body = request("POST", "/api/v1/members/", token, {
                "configuration_id": configuration, "pod": f"IT001E{p:08d}", "role": "prosumer",
                "holder_type": "natural_person", "joined_at": "2024-01-01"})
            assert status == 201, body
            # Injection needs a plant behind the POD (the generator's producers are the first
            # half, up to 9.6 kWh an hour): 20 kW bounds them.
            if p < args.pods // 2:
                status, body = request("POST", "/api/v1/plants/", token, {
                    "member_id": json.loads(body)["id"], "name": "PV", "source": "pv", "power_kw": "20",
                    "commissioned_on": "2024-01-01"})
                assert status == 201, body
        members_seconds = time.perf_counter() - started
        rss_before = peak_rss_mb(server.pid)

        size = os.path.getsize(args.file)
        results = []
        for attempt in ("first import", "re-import (no change)"):
            with open(args.file, "rb") as stream:
                started = time.perf_counter()
                query = f"?{args.query}" if args.query else ""
                status, body = request("POST", f"/api/v1/configurations/{configuration}/readings{query}", token,
                                       stream=stream, length=size, content_type="text/csv")
                seconds = time.perf_counter() - started
            assert status == 201, body[:2000]
            summary = json.loads(body)
            results.append((attempt, summary, seconds, peak_rss_mb(server.pid)))

        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            status, body = request("GET", f"/api/v1/configurations/{configuration}/energy?from=2025-01-01&to=2025-12-31&granularity=day", token)
            latencies.append(time.perf_counter() - started)
            assert status == 200, body
        days = len(json.loads(body)["points"])
    finally:
        server.terminate()
        server.wait()

    print(f"\n## {args.database}: {args.pods} PODs, {os.path.basename(args.file)} ({size / 1e6:.0f} MB)\n")
    print(f"- {args.pods} members created over HTTP in {members_seconds:.1f} s; server peak RSS before the import {rss_before:.0f} MB")
    print("\n| step | readings | new | unchanged | seconds | readings/s | server peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for attempt, summary, seconds, rss in results:
        print(f"| {attempt} | {summary['intervals']:,} | {summary['new_values']:,} | {summary['unchanged']:,} | {seconds:.1f} | {summary['intervals'] / seconds:,.0f} | {rss:.0f} MB |")
    print(f"\nYearly series by day ({days} points), 5 requests: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"min {min(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
