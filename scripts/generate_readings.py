#!/usr/bin/env python3
"""Generates a year of hourly meter readings in condivisa's long format, for benchmarks.

PODs IT001E00000000.. are numbered; the first half (or the first --producers) inject (a PV-like
curve), the others withdraw (a household-like curve). Values are deterministic (no randomness) so
runs compare.
"""
import argparse
import datetime as dt
import math


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--producers", type=int, help="injecting PODs (default: half)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=int, choices=[15, 60], default=60,
                        help="minutes per reading: 15 gives four times the rows, each a quarter of the hour")
    args = parser.parse_args()

    start = dt.datetime(args.year, 1, 1, tzinfo=dt.timezone.utc) - dt.timedelta(hours=1)  # local midnight (CET)
    end = dt.datetime(args.year + 1, 1, 1, tzinfo=dt.timezone.utc) - dt.timedelta(hours=1)
    hours = int((end - start).total_seconds() // 3600)
    per_hour = 60 // args.interval
    stamps = [(h, (start + dt.timedelta(minutes=args.interval * q)).strftime("%Y-%m-%dT%H:%M:%SZ"))
              for h in range(hours) for q in range(h * per_hour, (h + 1) * per_hour)]
    with open(args.out, "w", buffering=1 << 20) as out:
        out.write("timestamp;pod;direction;kwh;interval_minutes\n")
        for p in range(args.pods):
            pod = f"IT001E{p:08d}"
            injects = p < (args.producers if args.producers is not None else args.pods // 2)
            direction = "injection" if injects else "withdrawal"
            scale = 1 + (p % 7) / 10
            lines = []
            for h, stamp in stamps:
                hour_of_day = (h + 1) % 24
                if injects:
                    sun = max(0.0, math.sin(math.pi * (hour_of_day - 6) / 12))
                    kwh = round(6.0 * scale * sun / per_hour, 3)
                else:
                    kwh = round((0.3 * scale + 0.5 * (1 + math.cos(math.pi * (hour_of_day - 20) / 12)) / 2) / per_hour, 3)
                lines.append(f"{stamp};{pod};{direction};{kwh:.3f};{args.interval}\n")
            out.write("".join(lines))
    print(f"{args.out}: {args.pods} PODs x {len(stamps)} intervals = {args.pods * len(stamps)} readings")


if __name__ == "__main__":
    main()
