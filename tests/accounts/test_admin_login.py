"""SPEC §2: the admin's login form shares the API login's throttle.

Its failures count toward the same per-e-mail (5) and per-address (20) limits within the
15-minute window as the API's, in both directions, and while throttled it refuses even the
right password and says why on the form.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import LoginAttempt
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
ADMIN_LOGIN = "/admin/login/"
API_LOGIN = "/api/admin/login"
THROTTLED = re.compile(r"Too many failed logins for this (e-mail|IP address); try again in (\d+) seconds\.")


@pytest.fixture
def staff(db):
    return UserFactory(email="kim@example.com", name="Kim Staff", is_staff=True, is_superuser=True)


def admin_login(client: Client, email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip)


def api_login(email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return APIClient().post(API_LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def form_errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def assert_throttled_page(response, what: str = "e-mail") -> int:
    assert response.status_code == 200
    errors = form_errors(response)
    assert len(errors) == 1, errors
    match = THROTTLED.fullmatch(errors[0])
    assert match and match.group(1) == what, errors
    assert errors[0] in response.content.decode()
    seconds = int(match.group(2))
    assert 1 <= seconds <= 15 * 60
    return seconds


def test_right_password_logs_in(client, staff):
    r = admin_login(client, "KIM@example.com")
    assert r.status_code == 302 and r["Location"] == "/admin/"
    assert logged_in(client)


def test_wrong_password_shows_djangos_message_and_counts_as_a_failure(client, staff):
    r = admin_login(client, "kim@example.com", "wrong-password")
    assert r.status_code == 200
    assert form_errors(r) == ["Please enter the correct e-mail address and password for a staff account. "
                              "Note that both fields may be case-sensitive."]
    assert not logged_in(client)
    assert list(LoginAttempt.objects.values_list("email", "ip_address")) == [("kim@example.com", "10.0.0.1")]


def test_six_wrong_admin_logins_then_the_right_password_is_refused_with_the_throttle_message(client, staff):
    for _ in range(5):
        r = admin_login(client, "kim@example.com", "wrong-password")
        assert r.status_code == 200 and "Please enter the correct" in form_errors(r)[0]
    assert_throttled_page(admin_login(client, "kim@example.com", "wrong-password"))

    r = admin_login(client, "kim@example.com", PASSWORD)
    assert_throttled_page(r)
    assert not logged_in(client)
    assert client.get("/admin/").status_code == 302  # still sent to the login page
    # Throttled attempts are not failures of their own: the five still hold the count.
    assert LoginAttempt.objects.filter(email="kim@example.com").count() == 5


def test_the_throttle_lifts_for_the_admin_when_the_window_passes(client, staff):
    for _ in range(5):
        admin_login(client, "kim@example.com", "wrong-password")
    LoginAttempt.objects.update(created_at=timezone.now() - timedelta(minutes=14))
    assert assert_throttled_page(admin_login(client, "kim@example.com")) <= 60
    LoginAttempt.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    assert admin_login(client, "kim@example.com").status_code == 302
    assert logged_in(client)


def test_api_failures_throttle_the_admin_login(client, staff):
    for _ in range(5):
        assert api_login("kim@example.com", "wrong-password").status_code == 401
    assert_throttled_page(admin_login(client, "kim@example.com"))
    assert not logged_in(client)


def test_admin_failures_throttle_the_api_login(client, staff):
    for _ in range(5):
        admin_login(client, "kim@example.com", "wrong-password")
    r = api_login("kim@example.com")
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) >= 1


def test_api_and_admin_failures_count_together(client, staff):
    for _ in range(3):
        assert api_login("kim@example.com", "wrong-password").status_code == 401
    for _ in range(2):
        r = admin_login(client, "kim@example.com", "wrong-password")
        assert "Please enter the correct" in form_errors(r)[0]
    # 3 + 2 = 5: both doors are now shut, even to the right password.
    assert api_login("kim@example.com").status_code == 429
    assert_throttled_page(admin_login(client, "kim@example.com"))
    assert not logged_in(client)


def test_the_address_limit_is_shared_too(client, staff):
    for n in range(10):
        assert api_login(f"guess{n}@example.com", "nope", ip="192.0.2.7").status_code == 401
    for n in range(10, 20):
        admin_login(client, f"guess{n}@example.com", "nope", ip="192.0.2.7")
    assert_throttled_page(admin_login(client, "kim@example.com", ip="192.0.2.7"), what="IP address")
    assert api_login("kim@example.com", ip="192.0.2.7").status_code == 429
    # Another address is not throttled.
    assert admin_login(client, "kim@example.com", ip="192.0.2.8").status_code == 302


def test_an_admin_login_clears_the_email_failures(client, staff):
    for _ in range(4):
        api_login("kim@example.com", "wrong-password")
    assert admin_login(client, "kim@example.com").status_code == 302
    assert not LoginAttempt.objects.filter(email="kim@example.com").exists()


@pytest.mark.parametrize("flags", [{"is_staff": False}, {"is_active": False}])
def test_users_who_may_not_use_the_admin_are_refused(client, flags):
    UserFactory(email="shopper@example.com", **flags)
    r = admin_login(client, "shopper@example.com")
    assert r.status_code == 200
    assert "Please enter the correct" in form_errors(r)[0]
    assert not logged_in(client)


def test_an_inactive_users_right_password_counts_as_a_failure_like_the_api(client):
    UserFactory(email="gone@example.com", is_staff=True, is_active=False)
    admin_login(client, "gone@example.com")
    assert LoginAttempt.objects.filter(email="gone@example.com").count() == 1


def test_a_non_staff_users_right_password_is_not_a_failure(client):
    UserFactory(email="shopper@example.com", is_staff=False)
    admin_login(client, "shopper@example.com")
    assert not LoginAttempt.objects.exists()


def test_an_email_that_lengthens_when_lower_cased_is_refused_not_an_error(client, staff):
    # 'İ' lower-cases to two characters: 254 characters typed, 255 compared.
    email = "İ" + "a" * 241 + "@example.com"
    assert len(email) == 254 and len(email.lower()) == 255
    r = admin_login(client, email, "wrong-password")
    assert r.status_code == 200
    assert "Please enter the correct" in form_errors(r)[0]
    assert LoginAttempt.objects.get().email == email.lower()[:254]
