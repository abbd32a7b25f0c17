#!/usr/bin/env python3
"""Generates a year (or, with --month, one month) of meter readings in condivisa's long format,
for benchmarks. The scale dataset of issue 13 (10,000 PODs, a month of quarter-hours, 28.8 M
readings, about 1.4 GB):

    python3 scripts/generate_readings.py --pods 10000 --producers 500 --month 4 --interval 15 \
        --out target/bench/scale.csv

PODs IT001E00000000.. are numbered; the first half (or the first --producers) inject (a PV-like
curve), the others withdraw (a household-like curve). Values are deterministic (no randomness) so
runs compare.

With --layout xml it writes one month (--month, required) as the distributors' XML measure flow
instead (every POD withdrawing, quarter-hours, the autumn day in its two DST parts), for the XML
import's throughput:

    python3 scripts/generate_readings.py --layout xml --pods 1000 --month 10 \
        --out target/bench/misure_prelievo.xml
"""
import argparse
import datetime as dt
import math


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--producers", type=int, help="injecting PODs (default: half)")
    parser.add_argument("--month", type=int, choices=range(1, 13), help="only this month of --year")
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=int, choices=[15, 60], default=60,
                        help="minutes per reading: 15 gives four times the rows, each a quarter of the hour")
    parser.add_argument("--layout", choices=["long", "xml"], default="long")
    args = parser.parse_args()
    if args.layout == "xml":
        return write_xml(args)

    year_start = dt.datetime(args.year, 1, 1, tzinfo=dt.timezone.utc) - dt.timedelta(hours=1)  # local midnight (CET)
    start, end = year_start, dt.datetime(args.year + 1, 1, 1, tzinfo=dt.timezone.utc) - dt.timedelta(hours=1)
    if args.month:
        # Italian midnights: CEST (UTC+2) from the last Sunday of March to the last of October.
        from zoneinfo import ZoneInfo
        rome = ZoneInfo("Europe/Rome")
        first = dt.datetime(args.year, args.month, 1, tzinfo=rome)
        after = dt.datetime(args.year + (args.month == 12), args.month % 12 + 1, 1, tzinfo=rome)
        start, end = first.astimezone(dt.timezone.utc), after.astimezone(dt.timezone.utc)
    hours = int((end - start).total_seconds() // 3600)
    offset = int((start - year_start).total_seconds() // 3600)  # the same daily curve as a whole year
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
                hour_of_day = (h + offset + 1) % 24
                if injects:
                    sun = max(0.0, math.sin(math.pi * (hour_of_day - 6) / 12))
                    kwh = round(6.0 * scale * sun / per_hour, 3)
                else:
                    kwh = round((0.3 * scale + 0.5 * (1 + math.cos(math.pi * (hour_of_day - 20) / 12)) / 2) / per_hour, 3)
                lines.append(f"{stamp};{pod};{direction};{kwh:.3f};{args.interval}\n")
            out.write("".join(lines))
    print(f"{args.out}: {args.pods} PODs x {len(stamps)} intervals = {args.pods * len(stamps)} readings")


def write_xml(args) -> None:
    """One month of the XML measure flow: a DatiPod per POD, an Ea per day and DST part."""
    from zoneinfo import ZoneInfo
    if not args.month:
        raise SystemExit("--layout xml needs --month")
    rome = ZoneInfo("Europe/Rome")
    first = dt.date(args.year, args.month, 1)
    after = dt.date(args.year + (args.month == 12), args.month % 12 + 1, 1)
    days = (after - first).days

    def quarters(day):
        start = dt.datetime(day.year, day.month, day.day, tzinfo=rome)
        end = start + dt.timedelta(days=1)
        return int((end.astimezone(dt.timezone.utc) - start.astimezone(dt.timezone.utc)).total_seconds() // 900)

    readings = 0
    with open(args.out, "w", buffering=1 << 20) as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<FlussoMisure>\n')
        for p in range(args.pods):
            scale = 1 + (p % 7) / 10
            out.write(f"  <DatiPod>\n    <Pod>IT001E{p:08d}</Pod>\n    <MeseAnno>{args.month:02d}/{args.year}</MeseAnno>\n    <Curva>\n")
            for d in range(days):
                day = first + dt.timedelta(days=d)
                n = quarters(day)
                values = [f"{(0.3 * scale + 0.5 * (1 + math.cos(math.pi * ((q // 4) - 20) / 12)) / 2) / 4:.3f}".replace(".", ",")
                          for q in range(n)]
                parts = {96: [(0, values)], 92: [(1, values)], 100: [(2, values[:12]), (3, values[12:])]}[n]
                for dst, part in parts:
                    attrs = " ".join(f'E{k + 1}="{v}"' for k, v in enumerate(part))
                    out.write(f'      <Ea Dst="{dst}" {attrs}>{day.day}</Ea>\n')
                readings += n
            out.write("    </Curva>\n  </DatiPod>\n")
        out.write("</FlussoMisure>\n")
    print(f"{args.out}: {args.pods} PODs, {readings} readings")


if __name__ == "__main__":
    main()
