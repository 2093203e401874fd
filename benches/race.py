#!/usr/bin/env python3
"""Interleaved wall-time race of a few commands (used by benches/pictures.sh).

    race.py --runs 30 --warmup 3 --stdin /dev/pts/5 --json out.json \
        'xmedia=target/release/xmedia render pic.jpg ...' 'chafa=chafa --size 80x40 pic.jpg'

Every round runs each command once, in an order that rotates from round to round, so a change
in the machine's speed during the race (a 2-core VM's speed was seen to drift by 1.5x within
minutes) falls on all commands alike. Running one command N times and then the next, as
hyperfine does, lets such a drift decide the ratio: the same two builds measured 1.78x in one
run and 2.2x in the next.

Each command is started directly (no shell) with stdin from --stdin and stdout to /dev/null.
Wall time is from just before the process starts to just after it is reaped, so it includes
fork and exec, the same for every command.

Prints each command's median, quartiles and minimum in ms, then for every other command against
the first: the ratio of medians and the median (with quartiles) of the per-round ratios.
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def quartiles(xs):
    xs = sorted(xs)
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return q[0], statistics.median(xs), q[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--stdin", default="/dev/null")
    ap.add_argument("--json")
    ap.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = ap.parse_args()

    commands = []
    for spec in args.commands:
        name, sep, cmd = spec.partition("=")
        if not sep or not cmd.strip():
            sys.exit(f"race.py: expected NAME=COMMAND, got {spec!r}")
        commands.append((name, shlex.split(cmd)))

    devnull = open(os.devnull, "wb")

    def run(argv):
        with open(args.stdin, "rb") as stdin:
            start = time.perf_counter_ns()
            code = subprocess.call(argv, stdin=stdin, stdout=devnull)
            elapsed = time.perf_counter_ns() - start
        if code != 0:
            sys.exit(f"race.py: {shlex.join(argv)} exited with {code}")
        return elapsed / 1e6

    for _ in range(args.warmup):
        for _, argv in commands:
            run(argv)
    times = {name: [] for name, _ in commands}
    for r in range(args.runs):
        k = r % len(commands)
        for name, argv in commands[k:] + commands[:k]:
            times[name].append(run(argv))

    for name, _ in commands:
        q1, med, q3 = quartiles(times[name])
        print(f"{name:40s} median {med:7.2f} ms  (quartiles {q1:.2f}-{q3:.2f}, min {min(times[name]):.2f})")
    base_name = commands[0][0]
    base = times[base_name]
    ratios = {}
    for name, _ in commands[1:]:
        paired = [o / b for o, b in zip(times[name], base)]
        q1, med, q3 = quartiles(paired)
        of_medians = statistics.median(times[name]) / statistics.median(base)
        ratios[name] = {"of_medians": of_medians, "paired_median": med, "paired_q1": q1, "paired_q3": q3}
        print(f"{name} / {base_name}: {of_medians:.2f}x (ratio of medians); "
              f"per round {med:.2f}x (quartiles {q1:.2f}-{q3:.2f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": args.runs, "times_ms": times, "ratios_to_first": ratios}, f, indent=1)


if __name__ == "__main__":
    main()
