#!/usr/bin/env python
import os
import sys


def _database_problem() -> str | None:
    """Why the default database cannot be used (it does not exist, nothing answers, no rights), or
    None when it answers now: then the command's error is its own, not the set-up's."""
    from django.db import connections

    connection = connections["default"]
    try:
        connection.ensure_connection()
    except Exception as exc:  # whatever the driver raises when it cannot connect
        name = connection.settings_dict.get("NAME")
        host = connection.settings_dict.get("HOST")
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        where = f"{name} on {host}" if host else f"{name}"
        return f"cannot use the database {where}: {reason} (check DATABASE_URL, in the environment or .env)"
    return None


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    # A set-up mistake (no SECRET_KEY with DEBUG off, a database that does not exist) gets one
    # line saying what to fix, not a traceback; every other error keeps its traceback.
    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"Error: {exc}")
    except OperationalError:
        problem = _database_problem()
        if problem is None:
            raise
        sys.exit(f"Error: {problem}")


if __name__ == "__main__":
    main()
