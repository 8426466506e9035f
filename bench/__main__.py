"""`make bench`: run every benchmark in bench/ and print its tables.

``python -m bench`` (about 20 minutes on 2 cores) or ``python -m bench --quick`` (about a
minute, a smoke run). Each benchmark runs in its own process with its own homeserver, so one
cannot leave load behind for the next.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench.env import REPO


def benchmarks(quick: bool) -> list[list[str]]:
    detector = ["--repeat", "5", "--rounds", "1"] if quick else []
    flag = ["--quick"] if quick else []
    return [
        ["bench.detector_throughput", *detector],
        ["bench.latency", *flag],
        # 20 offices, 200 counsellors brought on duty in their offices' staff rooms.
        ["bench.office_latency", *flag],
        ["bench.concurrent", *flag],
        ["bench.scale", *flag],
        # Real encrypted rooms (about 7 minutes for 2,000: making them and the bot's joins).
        ["bench.scale", *flag, "--real", "20" if quick else "2000"],
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a one-minute smoke run")
    args = parser.parse_args()
    status = 0
    for module, *options in benchmarks(args.quick):
        print(f"\n# python -m {module} {' '.join(options)}".rstrip(), flush=True)
        done = subprocess.run([sys.executable, "-m", module, *options], cwd=REPO, check=False)
        status = status or done.returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
