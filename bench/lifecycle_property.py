"""Run the lifecycle property test (tests/sales/test_lifecycle_property.py) with many examples.

    .venv/bin/python bench/lifecycle_property.py [--examples 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orderdesk .venv/bin/python bench/lifecycle_property.py

Each example places a random order and runs 3–8 random actions on it (invoice, ship, refund,
cancel, fraud, edit, hold, release, address/note changes), checking every SPEC §5/§12 invariant
after every step. The suite runs 50 examples (200 on CI's PostgreSQL); this runs as many as asked,
prints hypothesis' statistics (which actions ran and how each was answered) and appends one line
to bench/results/lifecycle_property.txt: examples, steps, refusals, failures, wall time, engine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None,
                        help="hypothesis seed (run several processes with different seeds to split a large run)")
    args = parser.parse_args()
    seed = [f"--hypothesis-seed={args.seed}"] if args.seed is not None else []
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as stats:
        env = {**os.environ, "LIFECYCLE_EXAMPLES": str(args.examples), "LIFECYCLE_STATS": stats.name}
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "tests/sales/test_lifecycle_property.py", "-q",
                               "-p", "no:cacheprovider", "-k", "random_lifecycles", "--hypothesis-show-statistics", *seed],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.monotonic() - start
        rows = [tuple(map(int, x.split())) for x in stats.read().split("\n") if x.strip()]
    out = proc.stdout + proc.stderr
    print(out[-6000:])
    sequences, steps, refusals = len(rows), sum(r[0] for r in rows), sum(r[1] for r in rows)
    failed = 0 if proc.returncode == 0 else 1
    engine = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    line = (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC  examples={args.examples}  seed={args.seed}  engine={engine}  "
            f"sequences={sequences}  steps={steps}  refused_as_predicted={refusals}  failures={failed}  "
            f"wall={wall:.0f}s  load={os.getloadavg()[0]:.2f}")
    print(line)
    results = ROOT / "bench" / "results" / "lifecycle_property.txt"
    with results.open("a") as fh:
        fh.write(line + "\n")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
