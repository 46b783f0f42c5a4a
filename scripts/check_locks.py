"""Fail, saying what to do, when pyproject.toml asks for a package its lock file does not pin.

pyproject.toml holds the loose ranges ([project] dependencies, and the `dev` extra);
requirements.lock and requirements-dev.lock pin every package with its hashes (pip-compile,
`make lock`), and `make install` installs the dev lock with `pip install --require-hashes`. A
package added to pyproject.toml without `make lock` would be missing from the virtualenv:
`make install` runs this first so that says so, instead of an ImportError later.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def names(requirements: list[str]) -> set[str]:
    out = set()
    for line in requirements:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line.strip())
        if match:
            out.add(normalize(match.group(0)))
    return out


def pinned(path: Path) -> set[str]:
    return {normalize(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", path.read_text(), re.M)}


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {"requirements.lock": names(project.get("dependencies", [])),
              "requirements-dev.lock": names(project.get("optional-dependencies", {}).get("dev", []))}
    missing = []
    for lock, asked in wanted.items():
        missing += [f"{name} (pyproject.toml, not in {lock})" for name in sorted(asked - pinned(ROOT / lock))]
    if missing:
        print("The lock files are behind pyproject.toml: " + ", ".join(missing) + ".\n"
              "Run `make lock` and commit requirements.lock and requirements-dev.lock.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
