#!/usr/bin/env python3
"""A client generated from the OpenAPI document drives the operator's whole month.

Starts `condivisa serve` on a fresh database (SQLite, and PostgreSQL with --postgres),
generates a Python client from its `/api/v1/openapi.json` with openapi-python-client (pinned,
in a virtual environment under ~/.cache/condivisa), and with that client only — no hand-written
HTTP — logs in, creates an organization, a vendor and a configuration, members and a plant,
imports a month of readings and prices, writes a policy, previews and finalises the month and
reads a member's statement; then checks the figures.

What the generator cannot express, and how the flow goes around it: `text/csv` request bodies
(the file uploads also take `multipart/form-data`, which the client sends) and `image/svg+xml`
responses (the charts; the flow does not need them).

    python3 scripts/client_flow_test.py [--postgres URL]
"""
import argparse
import datetime as dt
import importlib
import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from contract_test import ADMIN, free_port, fresh_database, start_server  # noqa: E402

GENERATOR = "openapi-python-client==0.29.1"
ROOT = Path(__file__).resolve().parent.parent
VENV = Path.home() / ".cache" / "condivisa" / "openapi-python-client-0.29.1"


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not (VENV / "bin" / "openapi-python-client").exists():
        print(f"== installing {GENERATOR} in {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", GENERATOR], check=True)
    return python


def march_hours():
    """Every hour of March 2025 in Italy (743: the clocks go forward on the 30th), UTC."""
    t = dt.datetime(2025, 2, 28, 23, tzinfo=dt.timezone.utc)
    end = dt.datetime(2025, 3, 31, 22, tzinfo=dt.timezone.utc)
    while t < end:
        yield t
        t += dt.timedelta(hours=1)


def flow(base: str, package_dir: Path):
    """Runs inside the generator's virtual environment (the client needs httpx and attrs)."""
    sys.path.insert(0, str(package_dir))
    client_module = importlib.import_module("condivisa_client")
    models = importlib.import_module("condivisa_client.models")
    types = importlib.import_module("condivisa_client.types")
    api = lambda name: importlib.import_module(f"condivisa_client.api.{name}")  # noqa: E731

    def ok(response, status=200):
        assert response.status_code == status, (response.status_code, response.content[:2000])
        return response.parsed

    anonymous = client_module.Client(base_url=base, raise_on_unexpected_status=True)
    token = ok(api("login.access_token").sync_detailed(
        client=anonymous, body=models.PasswordForm(username=ADMIN[0], password=ADMIN[1])))
    admin = client_module.AuthenticatedClient(base_url=base, token=token.access_token,
                                              raise_on_unexpected_status=True)
    me = ok(api("login.test_token").sync_detailed(client=admin))
    assert me.email == ADMIN[0]

    org = ok(api("organizations.create_organization").sync_detailed(
        client=admin, body=models.OrganizationCreate(name="CER del Sole")), 201)
    vendor = ok(api("users.create_user").sync_detailed(client=admin, body=models.UserCreate.from_dict({
        "email": "esco@sole.example.com", "password": "una-password-sicura", "role": "vendor",
        "organization_id": org.id, "type": "company", "user_type": "producer", "status": "active"})), 201)
    assert vendor.role.value == "vendor"
    configuration = ok(api("configurations.create_configuration").sync_detailed(
        client=admin, body=models.ConfigurationCreate.from_dict({
            "name": "CER del Sole", "type": "CER", "primary_substation": "AC001E00555",
            "market_zone": "NORD", "region": "emilia_romagna", "organization_id": org.id,
            "constituted_on": "2024-01-10", "municipality_population": 20000})), 201)
    assert configuration.region.value == "emilia_romagna"
    ok(api("configurations.update_configuration").sync_detailed(
        configuration.id, client=admin, body=models.ConfigurationUpdate.from_dict({"status": "active"})))

    producer_pod, consumer_pod = "IT001E00000081", "IT001E00000082"
    members = {}
    for pod, role, holder in [(producer_pod, "producer", "sme"), (consumer_pod, "consumer", "natural_person")]:
        member = ok(api("members.create_member").sync_detailed(client=admin, body=models.MemberCreate.from_dict({
            "configuration_id": configuration.id, "pod": pod, "role": role, "holder_type": holder,
            "joined_at": "2024-02-01", "gse_notified_on": "2024-02-01"})), 201)
        members[pod] = member
    plant = ok(api("plants.create_plant").sync_detailed(client=admin, body=models.PlantCreate.from_dict({
        "member_id": members[producer_pod].id, "name": "Tetto", "source": "pv", "power_kw": "50",
        "commissioned_on": "2024-03-01", "gse_notified_on": "2024-03-01"})), 201)
    assert plant.power_kw == "50.000"

    # A complete March: the plant injects 20 kWh at midday, the consumer draws 12 kWh then.
    rows = ["timestamp;pod;direction;kwh;interval_minutes"]
    prices = ["timestamp;zone;eur_mwh;interval_minutes"]
    for t in march_hours():
        midday = t.hour == 11
        stamp = t.isoformat().replace("+00:00", "Z")
        rows.append(f"{stamp};{producer_pod};injection;{'20' if midday else '0'};60")
        rows.append(f"{stamp};{consumer_pod};withdrawal;{'12' if midday else '0.5'};60")
        prices.append(f"{stamp};NORD;110;60")
    upload = lambda text, name: models.FileUpload(file=types.File(  # noqa: E731
        payload=io.BytesIO(text.encode()), file_name=name, mime_type="text/csv"))
    imported = ok(api("meter_data.import_").sync_detailed(
        configuration.id, client=admin, body=upload("\n".join(rows) + "\n", "marzo.csv")), 201)
    assert imported.new_values == 2 * 743, imported.to_dict()
    ok(api("market.import_prices").sync_detailed(client=admin, body=upload("\n".join(prices) + "\n", "prezzi.csv")), 201)

    ok(api("settlement.write_policy").sync_detailed(configuration.id, client=admin, body=models.PolicyCreate.from_dict({
        "valid_from": "2025-01-01", "note": "Statuto art. 12", "document": {
            "shares": {"management": "10", "social_fund": "0", "producers": "40", "consumers": "50"},
            "producers_split": "by_incentivised_energy", "consumers_split": "by_shared_withdrawal",
            "excess_to": "non_business_consumers"}})), 201)
    run = ok(api("settlement.create_settlement").sync_detailed(
        configuration.id, client=admin, body=models.SettlementCreate(period="2025-03")), 201)
    report = run.report
    assert run.finalizable, report.problems
    assert report.totals.shared_kwh == "372.000", report.totals.to_dict()
    # The optional body left out is serialised as `Unset` by this generator version (a
    # TypeError in the client); `None` sends JSON `null`, which the document allows.
    finalised = ok(api("settlement.finalize_settlement").sync_detailed(run.id, client=admin, body=None))
    assert finalised.transactions_written > 0
    statement = ok(api("settlement.read_statement").sync_detailed(members[consumer_pod].id, client=admin, year=2025))
    march = statement.months[0]
    assert march.period == "2025-03" and march.shared_kwh == "372.000", march.to_dict()
    consumer = next(m for m in report.members if m.pod == consumer_pod)
    assert march.incentive_cents == consumer.incentive_cents > 0
    print(f"   flow done: run {run.id}, {finalised.transactions_written} ledger rows, "
          f"consumer March incentive {march.incentive_cents / 100:.2f} €", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / "target" / "debug" / "condivisa"))
    parser.add_argument("--postgres")
    parser.add_argument("--inside", nargs=2, help=argparse.SUPPRESS)  # base URL, package directory
    args = parser.parse_args()
    if args.inside:
        flow(args.inside[0], Path(args.inside[1]))
        return
    python = ensure_venv()
    databases = [("sqlite", None)] + ([("postgres", args.postgres)] if args.postgres else [])
    for name, admin_url in databases:
        with fresh_database(name, admin_url, "client") as (workdir, database_url):
            print(f"== generated client on {name}", flush=True)
            process, base = start_server(Path(args.binary), database_url, free_port(), workdir)
            try:
                document = workdir / "openapi.json"
                document.write_bytes(urllib.request.urlopen(base + "/api/v1/openapi.json").read())
                generated = subprocess.run(
                    [str(VENV / "bin" / "openapi-python-client"), "generate", "--path", str(document),
                     "--meta", "none", "--output-path", str(workdir / "client" / "condivisa_client")],
                    capture_output=True, text=True)
                if generated.returncode != 0:
                    raise SystemExit(generated.stdout + generated.stderr)
                subprocess.run([str(python), __file__, "--inside", base, str(workdir / "client")], check=True)
            finally:
                process.terminate()
                process.wait(timeout=30)
    print("== generated client: passed")


if __name__ == "__main__":
    main()
