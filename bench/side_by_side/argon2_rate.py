#!/usr/bin/env python3
"""The argon2id rate the FastAPI reference's hasher allows on this machine: the reference's own
`password_hasher` (fastapi_ref/app/core/security.py, argon2-cffi), one process per worker,
each verifying one hash over and over. Its login can go no faster; condivisa's counterpart is
`cargo build --release --example argon2_rate` (examples/argon2_rate.rs).

Usage: argon2_rate.py SECONDS PROCESSES     (run with the reference's venv)
Prints: RESULT argon2 server=fastapi library=argon2-cffi m=M t=T p=P processes=N verifications=V seconds=S rate=R/s
"""
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "fastapi_ref"))
from app.core.security import password_hasher as hasher  # noqa: E402  (the reference's, not a copy)

PASSWORD = "a password of the benchmark"


def verify_until(deadline: float, counts) -> None:
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
    print(f"RESULT argon2 server=fastapi library=argon2-cffi m={hasher.memory_cost} t={hasher.time_cost} "
          f"p={hasher.parallelism} processes={processes} verifications={total} seconds={elapsed:.1f} "
          f"rate={total / elapsed:.1f}/s")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(float(sys.argv[1]), int(sys.argv[2]))
