"""Fail, saying what to do, when a requirements file names a package its lock file does not pin.

requirements.txt and requirements-dev.txt hold the loose ranges; requirements.lock and
requirements-dev.lock pin every package with its hashes (pip-compile, `make lock`), and
`make install` installs the dev lock with `pip install --require-hashes`. A package added to a
requirements file without `make lock` would be missing from the virtualenv: `make install`
runs this first so that says so, instead of an ImportError later.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = {"requirements.txt": "requirements.lock", "requirements-dev.txt": "requirements-dev.lock"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def named(path: Path) -> set[str]:
    """Package names a requirements file asks for (its own lines; ``-r`` files are checked on their own)."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
            if match:
                names.add(normalize(match.group(0)))
    return names


def pinned(path: Path) -> set[str]:
    return {normalize(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", path.read_text(), re.M)}


def main() -> int:
    missing = []
    for source, lock in PAIRS.items():
        locked = pinned(ROOT / lock)
        missing += [f"{name} ({source}, not in {lock})" for name in sorted(named(ROOT / source) - locked)]
    if missing:
        print("The lock files are behind the requirements files: " + ", ".join(missing) + ".\n"
              "Run `make lock` and commit requirements.lock and requirements-dev.lock.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
