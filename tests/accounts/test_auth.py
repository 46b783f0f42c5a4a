"""SPEC §2: login, throttling, logout, Bearer tokens, create_api_token."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import LoginAttempt
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LOGIN = "/api/admin/login"
PROBE = "/api/admin/currencies"  # any authenticated read


@pytest.fixture
def staff(db):
    return UserFactory(email="kim@example.com", name="Kim Staff", is_staff=True, is_superuser=True)


def login(client, email, password=PASSWORD, ip="10.0.0.1"):
    return client.post(LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_not_authenticated(r):
    assert r.status_code == 401, r.content
    assert r.json()["code"] == "not_authenticated"
    assert r.json()["errors"] == []
    assert r["WWW-Authenticate"] == "Bearer"


# ---------------------------------------------------------------- login


def test_login_returns_token_expiry_and_user(anon, staff):
    r = login(anon, "kim@example.com")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert set(body) == {"token", "expiry", "user"}
    assert body["user"] == {"id": staff.id, "email": "kim@example.com", "name": "Kim Staff"}
    assert body["expiry"]
    # The token is stored hashed: the plain token is nowhere in the table.
    assert not AuthToken.objects.filter(digest=body["token"]).exists()
    assert AuthToken.objects.filter(user=staff).count() == 1
    assert bearer(body["token"]).get(PROBE).status_code == 200


def test_login_token_expires_after_ten_hours_by_default(anon, staff):
    before = timezone.now()
    r = login(anon, "kim@example.com")
    token = AuthToken.objects.get(user=staff)
    assert timedelta(hours=9, minutes=59) < token.expiry - before <= timedelta(hours=10, seconds=5)
    assert r.json()["expiry"] is not None


def test_login_email_is_case_insensitive(anon, staff):
    r = login(anon, "  KIM@Example.COM ")
    assert r.status_code == 200, r.json()
    assert r.json()["user"]["id"] == staff.id


def test_user_may_hold_several_tokens(anon, staff):
    t1 = login(anon, "kim@example.com").json()["token"]
    t2 = login(anon, "kim@example.com").json()["token"]
    assert t1 != t2
    assert AuthToken.objects.filter(user=staff).count() == 2
    assert bearer(t1).get(PROBE).status_code == 200
    assert bearer(t2).get(PROBE).status_code == 200


@pytest.mark.parametrize("email,password", [
    ("kim@example.com", "wrong-password"),
    ("nobody@example.com", PASSWORD),
])
def test_wrong_credentials_are_401(anon, staff, email, password):
    r = login(anon, email, password)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_credentials"
    assert r.json()["message"]
    assert AuthToken.objects.count() == 0


def test_inactive_user_is_401_even_with_right_password(anon):
    UserFactory(email="gone@example.com", is_staff=True, is_active=False)
    r = login(anon, "gone@example.com")
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_credentials"
    assert AuthToken.objects.count() == 0


def test_active_non_staff_user_is_403(anon):
    UserFactory(email="shopper@example.com", is_staff=False)
    r = login(anon, "shopper@example.com")
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    assert AuthToken.objects.count() == 0


@pytest.mark.parametrize("body", [{}, {"email": "kim@example.com"}, {"password": "x"}, {"email": "", "password": ""}])
def test_login_missing_fields_is_400(anon, staff, body):
    r = anon.post(LOGIN, body, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"]


# ---------------------------------------------------------------- throttling


def test_five_failures_for_one_email_throttle_even_the_right_password(anon, staff):
    for _ in range(5):
        assert login(anon, "kim@example.com", "nope").status_code == 401
    r = login(anon, "Kim@example.com", PASSWORD)
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    retry = int(r["Retry-After"])
    assert 1 <= retry <= 15 * 60
    assert str(retry) in r.json()["message"]
    assert AuthToken.objects.count() == 0


def test_four_failures_do_not_throttle(anon, staff):
    for _ in range(4):
        assert login(anon, "kim@example.com", "nope").status_code == 401
    assert login(anon, "kim@example.com").status_code == 200


def test_email_throttle_does_not_block_other_emails(anon, staff):
    UserFactory(email="other@example.com", is_staff=True)
    for _ in range(5):
        login(anon, "kim@example.com", "nope")
    assert login(anon, "kim@example.com").status_code == 429
    assert login(anon, "other@example.com").status_code == 200


def test_twenty_failures_from_one_ip_throttle_that_ip(anon, staff):
    for n in range(20):
        # Different e-mails, each below its own limit of 5.
        assert login(anon, f"guess{n}@example.com", "nope", ip="192.0.2.7").status_code == 401
    r = login(anon, "kim@example.com", ip="192.0.2.7")
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) >= 1
    # Another address is not throttled.
    assert login(anon, "kim@example.com", ip="192.0.2.8").status_code == 200


def test_throttle_lifts_when_the_window_passes(anon, staff):
    for _ in range(5):
        login(anon, "kim@example.com", "nope")
    assert login(anon, "kim@example.com").status_code == 429
    # 14 minutes later: still inside the window.
    LoginAttempt.objects.update(created_at=timezone.now() - timedelta(minutes=14))
    r = login(anon, "kim@example.com")
    assert r.status_code == 429
    assert int(r["Retry-After"]) <= 60
    # 16 minutes later: outside it.
    LoginAttempt.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    r = login(anon, "kim@example.com")
    assert r.status_code == 200, r.json()


def test_failures_outside_the_window_are_purged(anon, staff):
    for _ in range(3):
        login(anon, "kim@example.com", "nope")
    LoginAttempt.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    login(anon, "someone@example.com", "nope", ip="10.9.9.9")
    assert list(LoginAttempt.objects.values_list("email", flat=True)) == ["someone@example.com"]


def test_throttled_attempts_are_not_recorded_as_failures(anon, staff):
    for _ in range(5):
        login(anon, "kim@example.com", "nope")
    for _ in range(3):
        assert login(anon, "kim@example.com", "nope").status_code == 429
    assert LoginAttempt.objects.filter(email="kim@example.com").count() == 5


def test_successful_login_clears_the_email_failures(anon, staff):
    for _ in range(4):
        login(anon, "kim@example.com", "nope")
    assert login(anon, "kim@example.com").status_code == 200
    for _ in range(4):
        assert login(anon, "kim@example.com", "nope").status_code == 401
    assert login(anon, "kim@example.com").status_code == 200


# ---------------------------------------------------------------- logout / tokens


def test_logout_revokes_only_that_token(anon, staff):
    t1 = login(anon, "kim@example.com").json()["token"]
    t2 = login(anon, "kim@example.com").json()["token"]
    r = bearer(t1).post("/api/admin/logout")
    assert r.status_code == 204
    assert_not_authenticated(bearer(t1).get(PROBE))
    assert bearer(t2).get(PROBE).status_code == 200
    assert AuthToken.objects.filter(user=staff).count() == 1


def test_logout_without_token_is_401(anon):
    assert_not_authenticated(anon.post("/api/admin/logout"))


def test_no_token_is_401_with_bearer_challenge(anon):
    assert_not_authenticated(anon.get(PROBE))
    assert_not_authenticated(anon.get("/api/admin/orders"))
    assert_not_authenticated(anon.post("/api/admin/products", {}, format="json"))


@pytest.mark.parametrize("header", [
    "Bearer not-a-real-token",
    "Bearer " + "a" * 64,
    "Bearer",
    "Bearer two words",
    "Bearer ünïcödé",
    "Token abc",
    "Basic Zm9vOmJhcg==",
])
def test_unknown_or_malformed_token_is_401(staff, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_not_authenticated(client.get(PROBE))


def test_expired_token_is_401(anon, staff):
    token = login(anon, "kim@example.com").json()["token"]
    AuthToken.objects.filter(user=staff).update(expiry=timezone.now() - timedelta(seconds=1))
    assert_not_authenticated(bearer(token).get(PROBE))


def test_token_of_a_deactivated_user_is_401(anon, staff):
    token = login(anon, "kim@example.com").json()["token"]
    staff.is_active = False
    staff.save()
    assert_not_authenticated(bearer(token).get(PROBE))


def test_token_of_a_user_no_longer_staff_is_403(anon, staff):
    token = login(anon, "kim@example.com").json()["token"]
    staff.is_staff = False
    staff.save()
    r = bearer(token).get(PROBE)
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"


def test_session_auth_also_works(staff):
    client = APIClient()
    client.force_login(staff)
    assert client.get(PROBE).status_code == 200


# ---------------------------------------------------------------- create_api_token


def test_create_api_token_prints_a_working_token(staff):
    out = StringIO()
    call_command("create_api_token", "KIM@example.com", stdout=out)
    token = out.getvalue().strip()
    assert token and "\n" not in token
    assert AuthToken.objects.filter(user=staff).count() == 1
    r = bearer(token).get("/api/admin/orders")
    assert r.status_code == 200, r.json()


def test_create_api_token_unknown_email_fails(db):
    with pytest.raises(CommandError, match="nobody@example.com"):
        call_command("create_api_token", "nobody@example.com", stdout=StringIO())
    assert AuthToken.objects.count() == 0


@pytest.mark.parametrize("flags", [{"is_staff": False}, {"is_active": False}])
def test_create_api_token_refuses_users_who_could_not_use_it(db, flags):
    UserFactory(email="x@example.com", **flags)
    with pytest.raises(CommandError, match="x@example.com"):
        call_command("create_api_token", "x@example.com", stdout=StringIO())
    assert AuthToken.objects.count() == 0
