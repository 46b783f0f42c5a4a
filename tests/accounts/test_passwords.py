"""SPEC §2: passwords pass Django's validators everywhere one is set, and a new password or a
deactivation revokes the user's API tokens, however it is done."""

import getpass
from io import StringIO

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services.auth import token_issue
from sales.management.commands.demo_credentials import DEMO_EMAIL, DEMO_PASSWORD
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PROBE = "/api/admin/currencies"  # any authenticated read
GOOD = "Quiet-Lantern-Orbit-42"


@pytest.fixture
def kim(db):
    return UserFactory(email="kim@example.com", name="Kim Staff", is_staff=True, is_superuser=True)


def bearer(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
    return client


def assert_revoked(client: APIClient):
    r = client.get(PROBE)
    assert r.status_code == 401, r.content
    assert r.json()["code"] == "not_authenticated"


# ---------------------------------------------------------------- validators


@pytest.mark.parametrize("password,code", [
    ("password", "password_too_short"),  # and common
    ("12345678", "password_entirely_numeric"),  # and short, and common
    ("123456789012", "password_entirely_numeric"),
    ("iloveyou12", "password_too_common"),
    ("short-pw", "password_too_short"),
    ("kimberly.staff", "password_too_similar"),  # the e-mail's name part
    ("Kimberly Staff", "password_too_similar"),  # the name
])
def test_the_validators_refuse(password, code):
    user = User(email="kimberly.staff@example.com", name="Kimberly Staff")
    with pytest.raises(ValidationError) as exc:
        validate_password(password, user)
    assert code in {e.code for e in exc.value.error_list}


def test_the_demo_admins_password_passes_the_validators():
    # `make run` prints it (demo_credentials, seed_demo, the README): it must be one staff could set.
    validate_password(DEMO_PASSWORD, User(email=DEMO_EMAIL, name="Demo Admin"))


def test_a_good_password_passes(kim):
    validate_password(GOOD, kim)


@pytest.mark.parametrize("password", ["password", "12345678"])
def test_the_admin_user_add_form_refuses_weak_passwords(admin_client, password):
    r = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "new.staff@example.com", "name": "New Staff", "usable_password": "true",
        "password1": password, "password2": password})
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert "password2" in errors, errors
    assert not User.objects.filter(email="new.staff@example.com").exists()


def test_the_admin_user_add_form_refuses_a_password_like_the_email(admin_client):
    r = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "quartermaster@example.com", "name": "", "usable_password": "true",
        "password1": "quartermaster1", "password2": "quartermaster1"})
    assert r.status_code == 200
    assert "password2" in r.context["adminform"].form.errors
    assert not User.objects.filter(email="quartermaster@example.com").exists()


@pytest.mark.parametrize("password", ["password", "12345678"])
def test_the_admin_password_change_form_refuses_weak_passwords(admin_client, kim, password):
    before = User.objects.get(id=kim.id).password
    r = admin_client.post(reverse("admin:auth_user_password_change", args=[kim.id]),
                          {"usable_password": "true", "password1": password, "password2": password})
    assert r.status_code == 200
    assert "password2" in r.context["form"].errors
    assert User.objects.get(id=kim.id).password == before


def test_changepassword_refuses_a_weak_password(kim, monkeypatch):
    # The command reads the password twice with getpass; three refusals and it gives up.
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "12345678")
    with pytest.raises(CommandError, match="Aborting"):
        call_command("changepassword", "kim@example.com", stdout=StringIO(), stderr=StringIO())
    assert User.objects.get(id=kim.id).check_password("correct-horse-battery")


# ---------------------------------------------------------------- token revocation


def test_a_new_password_set_and_saved_revokes_the_users_tokens(kim):
    client = bearer(kim)
    other_user = bearer(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(PROBE).status_code == 200
    kim.set_password(GOOD)
    kim.save()
    assert_revoked(client)
    assert not AuthToken.objects.filter(user=kim).exists()
    assert other_user.get(PROBE).status_code == 200  # only that user's tokens


def test_a_password_changed_in_the_admin_revokes_the_users_tokens(admin_client, kim):
    client = bearer(kim)
    assert client.get(PROBE).status_code == 200
    r = admin_client.post(reverse("admin:auth_user_password_change", args=[kim.id]),
                          {"usable_password": "true", "password1": GOOD, "password2": GOOD})
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    assert User.objects.get(id=kim.id).check_password(GOOD)
    assert_revoked(client)


def test_disabling_password_login_in_the_admin_revokes_the_users_tokens(admin_client, kim):
    client = bearer(kim)
    r = admin_client.post(reverse("admin:auth_user_password_change", args=[kim.id]), {"usable_password": "false", "unset-password": "1"})
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    assert not User.objects.get(id=kim.id).has_usable_password()
    assert_revoked(client)


def test_changepassword_revokes_the_users_tokens(kim, monkeypatch):
    client = bearer(kim)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": GOOD)
    call_command("changepassword", "kim@example.com", stdout=StringIO())
    assert User.objects.get(id=kim.id).check_password(GOOD)
    assert_revoked(client)


def test_deactivating_a_user_revokes_the_users_tokens(kim):
    client = bearer(kim)
    assert client.get(PROBE).status_code == 200
    kim.is_active = False
    kim.save(update_fields=["is_active"])
    assert_revoked(client)
    assert not AuthToken.objects.filter(user=kim).exists()
    # Reactivated, the user logs in again for a new token; the old one stays dead.
    kim.is_active = True
    kim.save()
    assert_revoked(client)


def test_deactivating_a_user_in_the_admin_revokes_the_users_tokens(admin_client, kim):
    client = bearer(kim)
    r = admin_client.post(reverse("admin:accounts_user_change", args=[kim.id]), {
        "email": kim.email, "name": kim.name, "is_staff": "on", "is_superuser": "on",
        "date_joined_0": "2024-01-01", "date_joined_1": "00:00:00"})  # is_active left unticked
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    assert User.objects.get(id=kim.id).is_active is False
    assert_revoked(client)
    assert not AuthToken.objects.filter(user=kim).exists()  # gone, not only refused while inactive


def test_other_changes_keep_the_tokens(admin_client, kim):
    client = bearer(kim)
    kim.name = "Kim Renamed"
    kim.save()
    kim.is_staff = True
    kim.save(update_fields=["is_staff"])
    r = admin_client.post(reverse("admin:accounts_user_change", args=[kim.id]), {
        "email": kim.email, "name": "Kim Again", "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "date_joined_0": "2024-01-01", "date_joined_1": "00:00:00"})
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    assert client.get(PROBE).status_code == 200


def test_logging_in_keeps_the_tokens_even_when_the_hash_is_upgraded(kim, settings):
    # Django rehashes a password stored with an older hasher at the next login; the password
    # is the same, so that is no reason to sign the user's other clients out.
    client = bearer(kim)
    assert kim.password.startswith("md5$")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    r = APIClient().post("/api/admin/login", {"email": "kim@example.com", "password": "correct-horse-battery"},
                         format="json")
    assert r.status_code == 200, r.content
    assert User.objects.get(id=kim.id).password.startswith("pbkdf2_sha256$")
    assert client.get(PROBE).status_code == 200
    assert AuthToken.objects.filter(user=kim).count() == 2


def test_a_new_user_with_a_password_is_saved_normally():
    user = User.objects.create_superuser("fresh@example.com", GOOD)
    assert User.objects.get(id=user.id).check_password(GOOD)
    client = bearer(user)
    assert client.get(PROBE).status_code == 200
