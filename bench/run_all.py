"""Run every benchmark in turn (`make bench`). Each script prints its figures and appends them
to bench/results/. Pass-through: BENCH_ORDERS (default 100000) sizes the page benchmark. The
webhooks benchmark runs on PostgreSQL only (its Celery workers are other processes; it needs
Redis at 127.0.0.1:6379, or BENCH_BROKER_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    orders = os.environ.get("BENCH_ORDERS", "100000")
    runs = [
        [sys.executable, str(HERE / "seed_bench.py")],
        [sys.executable, str(HERE / "import_bench.py")],
        [sys.executable, str(HERE / "pages_bench.py"), "--orders", orders],
    ]
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        runs.append([sys.executable, str(HERE / "webhooks_bench.py")])  # workers need PostgreSQL (and Redis)
    failed = 0
    for cmd in runs:
        print("==", " ".join(Path(c).name for c in cmd[1:]), flush=True)
        failed += subprocess.call(cmd) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
