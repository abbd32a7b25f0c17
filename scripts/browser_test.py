#!/usr/bin/env python3
"""The console and the members' portal in a real browser, on SQLite and on PostgreSQL.

Starts `condivisa serve` on a fresh database, seeds a community over the API (an organization,
a referent running a configuration of four members with two plants, a member with an account,
March 2025's prices), writes the month's readings as files to upload (one with a bad line), then
runs `tests/browser/console.mjs`: Debian's Chromium, headless, driven by playwright-core, every
page checked with axe-core. Installs what it needs when missing: the `chromium` package (apt)
and the pinned npm packages of tests/browser/package.json (`npm ci`).

    python3 scripts/browser_test.py [--postgres URL] [--binary target/debug/condivisa]

Screenshots of the main pages: target/browser-screens/<database>/.
"""
import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from client_flow_test import march_hours  # noqa: E402
from contract_test import ADMIN, PASSWORD, free_port, fresh_database, login, request, start_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "browser"
CHROMIUM = "/usr/bin/chromium"


def ensure_tools():
    if not Path(CHROMIUM).exists():
        print("== installing chromium (Debian)", flush=True)
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
            subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
    if not (SUITE / "node_modules" / "playwright-core").exists() or not (SUITE / "node_modules" / "axe-core").exists():
        print("== installing the browser suite's npm packages", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=SUITE, check=True)


def seed(base):
    admin = login(base, *ADMIN)
    org = request(base, "POST", "/api/v1/organizations/", admin, {"name": "CER Browser"})["id"]
    accounts = {}
    for role, email in [("referent", "referente@browser.example.com"), ("user", "socio@browser.example.com")]:
        accounts[role] = request(base, "POST", "/api/v1/users/", admin, {
            "email": email, "password": PASSWORD, "role": role, "organization_id": org,
            "full_name": "Referente Rossi" if role == "referent" else "Socia Bianchi"})["id"]
    configuration = request(base, "POST", "/api/v1/configurations/", admin, {
        "name": "CER Padova", "type": "CER", "primary_substation": "AC001E00999", "market_zone": "NORD",
        "region": "veneto", "organization_id": org, "referent_id": accounts["referent"],
        "constituted_on": "2024-01-10", "municipality_population": 20000})["id"]
    pods = {"P1": "IT001E00000001", "P2": "IT001E00000002", "C1": "IT001E00000003", "C2": "IT001E00000004"}
    members = {}
    for key, role, holder in [("P1", "producer", "sme"), ("P2", "producer", "sme"),
                              ("C1", "consumer", "natural_person"), ("C2", "consumer", "natural_person")]:
        body = {"configuration_id": configuration, "pod": pods[key], "role": role, "holder_type": holder,
                "joined_at": "2024-02-01", "gse_notified_on": "2024-02-01"}
        if key == "C1":
            body["user_id"] = accounts["user"]
        members[key] = request(base, "POST", "/api/v1/members/", admin, body)["id"]
    # The member's holder is linked to the member's account, so that the portal lets it ask
    # for a new IBAN.
    holder = request(base, "GET", f"/api/v1/members/{members['C1']}", admin)["holder_id"]
    request(base, "PATCH", f"/api/v1/holders/{holder}", admin, {
        "kind": "natural_person", "first_name": "Socia", "last_name": "Bianchi",
        "user_id": accounts["user"], "iban": "IT60X0542811101000000123456"})
    for key, kw, commissioned in [("P1", "150", "2024-03-01"), ("P2", "300", "2024-06-01")]:
        request(base, "POST", "/api/v1/plants/", admin, {
            "member_id": members[key], "name": "Tetto", "source": "pv", "power_kw": kw,
            "commissioned_on": commissioned, "gse_notified_on": commissioned})
    request(base, "PATCH", f"/api/v1/configurations/{configuration}", admin, {
        "status": "active", "accepts_join_requests": True,
        "privacy_notice_version": "2025-03", "statute_version": "v2"})
    hours = list(march_hours())
    prices = "timestamp;zone;eur_mwh;interval_minutes\n" + "".join(
        f"{t.isoformat()};NORD;110;60\n" for t in hours)
    request(base, "POST", "/api/v1/market/zonal-prices", admin, csv=prices)
    noon = dt.datetime(2025, 3, 10, 11, tzinfo=dt.timezone.utc)
    lines = ["timestamp;pod;direction;kwh;interval_minutes"]
    for key, direction, kwh in [("P1", "IMMISSIONE", "50"), ("P2", "IMMISSIONE", "0"),
                                ("C1", "PRELIEVO", "30"), ("C2", "PRELIEVO", "20")]:
        lines += [f"{t.isoformat()};{pods[key]};{direction};{kwh if t == noon else '0'};60" for t in hours]
    readings = "\n".join(lines) + "\n"
    broken = lines[:2] + [f"2025-03-01T00:00:00+00:00;{pods['P1']};IMMISSIONE;tanti;60"] + lines[2:]
    return {
        "password": PASSWORD,
        "referent": {"email": "referente@browser.example.com"},
        "configuration": {"id": configuration, "name": "CER Padova"},
        "member": {"email": "socio@browser.example.com", "id": members["C1"], "pod": pods["C1"],
                   "holder": holder},
        "other_member": {"id": members["C2"], "pod": pods["C2"]},
        "readings": readings,
        "readings_broken": "\n".join(broken) + "\n",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / "target" / "debug" / "condivisa"))
    parser.add_argument("--postgres")
    args = parser.parse_args()
    ensure_tools()
    databases = [("sqlite", None)] + ([("postgres", args.postgres)] if args.postgres else [])
    for name, admin_url in databases:
        with fresh_database(name, admin_url, "browser") as (workdir, database_url):
            print(f"== browser suite on {name}", flush=True)
            process, base = start_server(Path(args.binary), database_url, free_port(), workdir)
            try:
                seed_file = workdir / "seed.json"
                seed_file.write_text(json.dumps(seed(base)))
                screens = ROOT / "target" / "browser-screens" / name
                shutil.rmtree(screens, ignore_errors=True)
                result = subprocess.run(["node", str(SUITE / "console.mjs"), base, str(seed_file), str(screens)])
                if result.returncode != 0:
                    print((workdir / "server.log").read_text()[-5000:], file=sys.stderr)
                    raise SystemExit(f"browser suite failed on {name}")
            finally:
                process.terminate()
                process.wait(timeout=30)
    print("== browser suite: passed")


if __name__ == "__main__":
    main()
