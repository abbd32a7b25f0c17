#!/usr/bin/env python3
"""The argon2id rate the FastAPI reference's hasher allows on this machine: argon2-cffi with the
reference's parameters (app/core/security.py: m=19456 KiB, t=2, p=1), one process per worker,
each verifying one hash over and over. Its login can go no faster; condivisa's counterpart is
`cargo build --release --example argon2_rate` (examples/argon2_rate.rs).

Usage: argon2_rate.py SECONDS PROCESSES     (run with the reference's venv)
Prints: RESULT argon2 server=fastapi library=argon2-cffi processes=N verifications=V seconds=S rate=R/s
"""
import multiprocessing
import sys
import time

from argon2 import PasswordHasher, Type

PASSWORD = "a password of the benchmark"


def verify_until(deadline: float, counts) -> None:
    hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16,
                            type=Type.ID)
    stored = hasher.hash(PASSWORD)
    done = 0
    while time.monotonic() < deadline:
        hasher.verify(stored, PASSWORD)
        done += 1
    counts.put(done)


def main(seconds: float, processes: int) -> None:
    counts = multiprocessing.Queue()
    started = time.monotonic()
    workers = [multiprocessing.Process(target=verify_until, args=(started + seconds, counts))
               for _ in range(processes)]
    for w in workers:
        w.start()
    total = sum(counts.get() for _ in workers)
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    print(f"RESULT argon2 server=fastapi library=argon2-cffi processes={processes} "
          f"verifications={total} seconds={elapsed:.1f} rate={total / elapsed:.1f}/s")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(float(sys.argv[1]), int(sys.argv[2]))
