"""Production (SPEC §9, §13): `check --deploy` is clean with the settings docs/operations.md gives,
and gunicorn.conf.py serves the app with them (HTTPS redirect, HSTS behind the proxy header,
/healthz over plain HTTP for the load balancer)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET = "prod-test-" + "k7Qw9zX2pL4mN8vB3cR6tY1uE5iO0aS" * 2


def documented_env() -> dict[str, str]:
    """The ```env block of docs/operations.md's "Production settings", on a bare environment (only
    what a production shell has), the SECRET_KEY placeholder filled in."""
    text = (ROOT / "docs" / "operations.md").read_text()
    block = text.split("## Production settings", 1)[1].split("```env\n", 1)[1].split("```", 1)[0]
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    for line in block.splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = value
    assert env["DEBUG"] == "false" and env["HTTPS"] == "true" and env["SECRET_KEY"].startswith("<")
    env["SECRET_KEY"] = SECRET
    return env


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env={**documented_env(), "ENV_FILE": ""}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_warns_without_https():
    """The check can fail: the same settings without HTTPS=true are not production-ready."""
    env = {**documented_env(), "ENV_FILE": ""}
    del env["HTTPS"]
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS
    assert "security.W008" in result.stderr + result.stdout  # no SSL redirect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_conf_serves_the_app_with_the_production_settings(tmp_path):
    port = _free_port()
    db = tmp_path / "db.sqlite3"
    db.touch()
    env = {**documented_env(), "ENV_FILE": "", "DATABASE_URL": f"sqlite:///{db}", "PORT": str(port),
           "WEB_CONCURRENCY": "1", "ALLOWED_HOSTS": "desk.example.com,127.0.0.1", "GUNICORN_ACCESS_LOG": ""}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "config.wsgi"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("gunicorn did not start:\n" + (proc.stdout.read() if proc.poll() is not None else ""))
                time.sleep(0.2)
        # The load balancer's plain-HTTP probe is answered, not redirected.
        assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok", "broker": "eager"}
        # Anything else over plain HTTP goes to https.
        plain = httpx.get(f"{base}/api/admin/orders", headers={"Host": "desk.example.com"}, timeout=5)
        assert plain.status_code == 301 and plain.headers["location"] == "https://desk.example.com/api/admin/orders"
        # Through the TLS proxy (it says so in X-Forwarded-Proto): served, with HSTS.
        proxied = httpx.get(f"{base}/api/admin/orders", timeout=5,
                            headers={"Host": "desk.example.com", "X-Forwarded-Proto": "https"})
        assert proxied.status_code == 401
        assert proxied.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
        assert proxied.headers["x-content-type-options"] == "nosniff"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
