"""Set-up friction a new user hit (issue 12): one configuration from `.env` for every entry point,
`make run PORT=…` links, reseeding the demo, one clear line for set-up mistakes, log lines once.
Each runs `manage.py` as a user would, in a subprocess, on a throwaway SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOW = "from django.conf import settings as s; print(s.DATABASES['default']['NAME'], s.PUBLIC_BASE_URL, s.STORE_NAME)"


def manage(*args: str, env: dict[str, str] | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "PORT", "PUBLIC_BASE_URL", "STORE_NAME", "ENV_FILE", "SECRET_KEY", "DEBUG",
                         "CELERY_BROKER_URL"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def test_settings_come_from_the_env_file_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "orderdesk.env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{tmp_path}/from-file.sqlite3\nSTORE_NAME=From the file\n"
                        "PUBLIC_BASE_URL=https://desk.example.com\n")
    done = manage("shell", "-v0", "-c", SHOW, env={"ENV_FILE": str(env_file)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"{tmp_path}/from-file.sqlite3", "https://desk.example.com", "From", "the",
                                   "file"]
    done = manage("shell", "-v0", "-c", SHOW, env={"ENV_FILE": str(env_file), "STORE_NAME": "From-the-shell"})
    assert done.stdout.split()[-1] == "From-the-shell"


def test_a_missing_env_file_named_by_env_file_is_one_line(tmp_path):
    done = manage("check", env={"ENV_FILE": str(tmp_path / "nope.env")})
    assert done.returncode == 1
    assert done.stderr == f"Error: ENV_FILE={tmp_path / 'nope.env'}: no such file.\n"


def test_the_port_served_gives_the_banner_and_the_checkout_links(tmp_path):
    db = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    assert manage("migrate", "-v0", env=db).returncode == 0
    done = manage("demo_credentials", env={**db, "PORT": "8081"})
    assert done.returncode == 0, done.stderr
    assert "http://127.0.0.1:8081/admin/" in done.stdout and "http://127.0.0.1:8081/api/admin/orders" in done.stdout
    assert ":8000" not in done.stdout
    assert manage("shell", "-v0", "-c", SHOW, env={**db, "PORT": "8081"}).stdout.split()[1] == "http://127.0.0.1:8081"
    # PUBLIC_BASE_URL (a proxy, a tunnel) wins over the port.
    done = manage("demo_credentials", env={**db, "PORT": "8081", "PUBLIC_BASE_URL": "https://desk.example.com/"})
    assert "https://desk.example.com/admin/" in done.stdout and "8081" not in done.stdout


@pytest.mark.django_db
def test_checkout_links_follow_the_port(settings):
    from sales.services.placing import checkout_url_for
    from tests.sales.helpers import placed_order
    from tests.sales.lifecycle_support import product

    order = placed_order((product(), 1), payment="paylink")
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8081"
    assert checkout_url_for(order) == f"http://127.0.0.1:8081/checkout/{order.checkout_token}/"


def test_missing_secret_key_with_debug_off_is_one_line():
    done = manage("check", env={"DEBUG": "false"})
    assert done.returncode == 1
    assert done.stderr == ("Error: SECRET_KEY must be set when DEBUG is off (in the environment or in .env; "
                           "see docs/operations.md).\n")


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path):
    done = manage("migrate", env={"DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3"})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: cannot use the database {tmp_path}/no/such/dir/db.sqlite3: ")
    assert "check DATABASE_URL" in done.stderr


@pytest.mark.postgres
def test_a_postgres_database_that_does_not_exist_is_one_line():
    from django.db import connection

    params = connection.settings_dict
    url = f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/od_no_such_database"
    done = manage("migrate", env={"DATABASE_URL": url})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: cannot use the database od_no_such_database on ")
    assert 'database "od_no_such_database" does not exist' in done.stderr


def test_a_command_error_that_is_not_set_up_keeps_its_traceback(tmp_path):
    """The one-line treatment is for set-up mistakes only: a database that answers but fails a
    command's query still shows where."""
    db = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    done = manage("shell", "-v0", "-c", "from django.db import connection; connection.cursor().execute('SELECT * FROM nope')",
                  env=db)
    assert done.returncode == 1 and "Traceback" in done.stderr and "no such table: nope" in done.stderr


def test_log_lines_print_once(tmp_path):
    code = ("from django.test import Client; Client().get('/no-such-page'); "
            "import logging; logging.getLogger('django.request').warning('marker line')")
    done = manage("shell", "-v0", "-c", code, env={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "DEBUG": "true"})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Not Found: /no-such-page") == 1, done.stderr
    assert done.stderr.count("marker line") == 1, done.stderr


def test_reseed_replaces_the_demo_data(tmp_path):
    db = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    assert manage("migrate", "-v0", env=db).returncode == 0
    assert manage("seed_demo", "--orders", "6", "--no-progress", env=db).returncode == 0
    skipped = manage("seed_demo", "--orders", "3", "--if-empty", env=db)
    assert "already present" in skipped.stdout
    refused = manage("reseed_demo", "--orders", "3", env=db)  # asks, and no answer is no
    assert refused.returncode != 0
    done = manage("reseed_demo", "--orders", "3", "--yes", "-v0", env=db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("with 3 demo orders.")
    count = ("from sales.models import Order; from catalog.models import InventorySource; "
             "from carts.models import PaymentMethod; "
             "print(Order.objects.count(), InventorySource.objects.filter(code='default').count(), "
             "PaymentMethod.objects.count() > 0)")
    assert manage("shell", "-v0", "-c", count, env=db).stdout.split() == ["3", "1", "True"]
