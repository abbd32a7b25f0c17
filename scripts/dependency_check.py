#!/usr/bin/env python3
"""The dependencies' health, as far as the registries this machine reaches allow.

1. Yanked crates: every crates.io package in Cargo.lock is looked up in crates.io's sparse index
   (https://index.crates.io); a locked version its authors yanked fails the check. A yank is
   how a crate's authors withdraw a broken or unsafe release.
2. Security advisories: `cargo audit` needs the RustSec advisory database, which is published on
   GitHub only. When github.com answers and `cargo audit` is installed, it runs and its verdict
   counts; otherwise the script says plainly that advisories were not checked and why, and
   prints the command to run where GitHub is reachable.

    python3 scripts/dependency_check.py [--require-advisories]

Exit status 1 when a yanked version is locked (or, with --require-advisories, when advisories
could not be checked or `cargo audit` found one).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
INDEX = "https://index.crates.io"


def index_path(name):
    name = name.lower()
    if len(name) <= 2:
        return f"{len(name)}/{name}"
    if len(name) == 3:
        return f"3/{name[0]}/{name}"
    return f"{name[:2]}/{name[2:4]}/{name}"


def yanked(package):
    """(name, version, yanked?) or (name, version, error text)."""
    name, version = package["name"], package["version"]
    url = f"{INDEX}/{index_path(name)}"
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            lines = response.read().decode().splitlines()
    except (urllib.error.URLError, TimeoutError) as error:
        return name, version, f"index unreachable: {error}"
    for line in lines:
        entry = json.loads(line)
        if entry.get("vers") == version:
            return name, version, entry.get("yanked", False)
    return name, version, "version not in the index"


def github_reachable():
    try:
        urllib.request.urlopen("https://github.com/rustsec/advisory-db", timeout=10).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable from here"
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--require-advisories", action="store_true")
    args = parser.parse_args()

    with open(os.path.join(ROOT, "Cargo.lock"), "rb") as f:
        lock = tomllib.load(f)
    packages = [p for p in lock["package"] if p.get("source") == CRATES_IO]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(yanked, packages))
    withdrawn = [(n, v) for n, v, y in results if y is True]
    problems = [(n, v, y) for n, v, y in results if isinstance(y, str)]
    failed = False
    if problems:
        failed = True
        for name, version, why in problems:
            print(f"{name} {version}: {why}", file=sys.stderr)
    if withdrawn:
        failed = True
        for name, version in withdrawn:
            print(f"{name} {version} is yanked on crates.io: update it (cargo update -p {name})", file=sys.stderr)
    print(f"yanked check: {len(packages)} crates.io packages, {len(withdrawn)} yanked, {len(problems)} unreadable")

    if not github_reachable():
        print(
            "advisories NOT checked: the RustSec advisory database is on github.com, which this "
            "machine does not reach. Where it is reachable: cargo install cargo-audit --locked && cargo audit"
        )
        failed |= args.require_advisories
    elif shutil.which("cargo-audit") is None:
        print("advisories NOT checked: cargo-audit is not installed (cargo install cargo-audit --locked)")
        failed |= args.require_advisories
    else:
        audit = subprocess.run(["cargo", "audit"], cwd=ROOT)
        failed |= audit.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
