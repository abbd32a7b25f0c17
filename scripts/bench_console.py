#!/usr/bin/env python3
"""How fast the console renders a members page of a large configuration (issue 16's target:
the first page of a 10,000-member list in under 100 ms on the release build).

Starts the release binary on a fresh database (SQLite, or PostgreSQL with --postgres), creates
one configuration with --members members over the API, signs in through the console's form like
a browser (cookie session), then asks for pages one at a time (the time a person waits, not a
throughput) and prints the median, 95th percentile and slowest time of each page kind.

    cargo build --release
    python3 scripts/bench_console.py [--members 10000] [--requests 300] [--postgres URL]
"""
import argparse
import concurrent.futures
import http.cookiejar
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from contract_test import ADMIN, free_port, fresh_database, login, request, start_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def seed(base, members):
    admin = login(base, *ADMIN)
    org = request(base, "POST", "/api/v1/organizations/", admin, {"name": "Bench"})["id"]
    configuration = request(base, "POST", "/api/v1/configurations/", admin, {
        "name": "CER grande", "type": "CER", "primary_substation": "AC001E00999", "market_zone": "NORD",
        "region": "veneto", "organization_id": org, "constituted_on": "2024-01-10"})["id"]

    def one(i):
        role = "producer" if i % 10 == 0 else "consumer"
        request(base, "POST", "/api/v1/members/", admin, {
            "configuration_id": configuration, "pod": f"IT001E{i + 1:08d}", "role": role,
            "holder_type": "sme" if role == "producer" else "natural_person", "joined_at": "2024-02-01"})

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(members)))
    print(f"seeded {members} members in {time.perf_counter() - started:.1f} s", flush=True)
    return configuration


def browser(base):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/console/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"login": ADMIN[0], "password": ADMIN[1], "csrf": csrf}).encode()
    opener.open(base + "/console/login", data=data).read()
    return opener


def timed(opener, url, n):
    for _ in range(20):
        opener.open(url).read()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        with opener.open(url) as response:
            body = response.read()
            assert response.status == 200
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return body, statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / "target" / "release" / "condivisa"))
    parser.add_argument("--postgres")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    name = "postgres" if args.postgres else "sqlite"
    with fresh_database(name, args.postgres, "bench-console") as (workdir, database_url):
        process, base = start_server(Path(args.binary), database_url, free_port(), workdir)
        try:
            configuration = seed(base, args.members)
            opener = browser(base)
            pages = {
                "first page": f"/console/configurations/{configuration}/members",
                "page 100": f"/console/configurations/{configuration}/members?page=100",
                "search": f"/console/configurations/{configuration}/members?search=0000123",
                "dashboard": f"/console/configurations/{configuration}",
                "holders, first page": f"/console/holders?configuration_id={configuration}",
                "holders, search": "/console/holders?search=0000123",
            }
            for label, path in pages.items():
                body, median, p95, worst = timed(opener, base + path, args.requests)
                rows = body.count(b"<tr>")
                print(f"RESULT console {name} {label}: median {median:.1f} ms, p95 {p95:.1f} ms, "
                      f"max {worst:.1f} ms ({len(body)} bytes, {rows} rows)", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
