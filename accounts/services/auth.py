"""Login, logout and API tokens (SPEC §2)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection, transaction
from django.utils import timezone
from knox.models import AuthToken

from accounts.errors import InvalidCredentials, LoginThrottled, NotStaff, UserNotFound, UserNotStaff
from accounts.models import LoginAttempt, User


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expiry: datetime | None
    user: User


def token_issue(*, user: User) -> IssuedToken:
    instance, token = AuthToken.objects.create(user=user)
    return IssuedToken(token=token, expiry=instance.expiry, user=user)


def _throttle_check(*, email: str, ip_address: str, exclude_id: int) -> None:
    """Raise ``LoginThrottled`` when the failures before this attempt reach a limit.

    ``exclude_id`` is this attempt's own row, recorded just before the check.
    """
    now = timezone.now()
    window = settings.LOGIN_FAILURE_WINDOW
    since = now - window
    recent = LoginAttempt.objects.filter(created_at__gte=since).exclude(id=exclude_id)
    checks = (
        (recent.filter(email=email), settings.LOGIN_MAX_FAILURES_PER_EMAIL, "this e-mail"),
        (recent.filter(ip_address=ip_address), settings.LOGIN_MAX_FAILURES_PER_IP, "this IP address"),
    )
    for attempts, limit, what in checks:
        if attempts.count() >= limit:
            # Retry once the oldest failure that keeps us over the limit leaves the window.
            oldest = attempts.order_by("-created_at").values_list("created_at", flat=True)[limit - 1]
            retry_after = max(1, math.ceil((oldest + window - now).total_seconds()))
            raise LoginThrottled(
                f"Too many failed logins for {what}; try again in {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)},
            )


def _attempts_lock(*, email: str, ip_address: str) -> None:
    """Serialize the login attempts of one e-mail, and of one IP address, until commit.

    Under READ COMMITTED two attempts would each count the failures before either had
    recorded its own, and both pass (15 parallel wrong passwords → 15 answered 401). A
    transaction-level advisory lock per e-mail and per address makes count-and-record one
    step; it is held only for that insert and count, never while a password is hashed.
    The two keys are taken in one fixed order, so two attempts never deadlock.
    SQLite needs nothing: it has one writer at a time, and this transaction holds the write
    lock from its first statement (the attempt's INSERT) until it ends.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted([f"login-email:{email}", f"login-ip:{ip_address}"])
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _attempt_begin(*, email: str, ip_address: str) -> int:
    """Record this attempt as a failure, unless the e-mail or the address is throttled.

    The attempt counts as a failure from the start, so parallel attempts see it; a right
    password then deletes it (``credentials_check``). Raising inside the transaction rolls
    the row back: a throttled attempt is never recorded.
    """
    with transaction.atomic():
        _attempts_lock(email=email, ip_address=ip_address)
        attempt = LoginAttempt.objects.create(email=email, ip_address=ip_address)
        _throttle_check(email=email, ip_address=ip_address, exclude_id=attempt.id)
    return attempt.id


def credentials_check(*, email: str, password: str, ip_address: str) -> User:
    """The active user with this e-mail and password, through the login throttle (SPEC §2).

    Shared by the API login and the admin's login form, so their failures count together
    and both refuse while throttled: ``LoginThrottled`` (even for the right password) or
    ``InvalidCredentials`` (wrong e-mail or password, or an inactive user). Whether the
    user may use the API or the admin (staff) is the caller's check; a right password is
    never a failure.
    """
    email = (email or "").strip().lower()
    # The throttle's key is cut to its column: lower-casing can lengthen an e-mail ('İ' → two
    # characters), and one that long belongs to no user, so sharing a key costs nothing.
    key = email[: LoginAttempt._meta.get_field("email").max_length]
    attempt_id = _attempt_begin(email=key, ip_address=ip_address)
    user = authenticate(username=email, password=password)
    if user is None:
        # Failures outside the window no longer count: drop them here, so the table holds at
        # most one window's worth of failures (nothing else ever purged it).
        login_attempts_purge()
        raise InvalidCredentials()
    LoginAttempt.objects.filter(id=attempt_id).delete()
    return user


def login_succeeded(*, user: User) -> None:
    """A staff user is in: the failures recorded against the e-mail are forgiven."""
    LoginAttempt.objects.filter(email=user.email).delete()


def login(*, email: str, password: str, ip_address: str) -> IssuedToken:
    user = credentials_check(email=email, password=password, ip_address=ip_address)
    if not user.is_staff:
        raise NotStaff()
    login_succeeded(user=user)
    return token_issue(user=user)


def logout(*, token: AuthToken) -> None:
    token.delete()


def token_create_for_email(*, email: str) -> IssuedToken:
    """A new token for ``manage.py create_api_token``.

    Refuses users who could not use it (inactive, or not staff: every /api/admin/ call
    would answer 401 / 403), so the command never prints a token that does not work.
    """
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise UserNotFound(f"No user with e-mail {email}.")
    if not user.is_active or not user.is_staff:
        raise UserNotStaff(f"{user.email} is not an active staff user; a token would not give access to the API.")
    return token_issue(user=user)


def login_attempts_purge() -> int:
    cutoff = timezone.now() - settings.LOGIN_FAILURE_WINDOW
    deleted, _ = LoginAttempt.objects.filter(created_at__lt=cutoff).delete()
    return deleted


__all__ = ["IssuedToken", "credentials_check", "login", "login_succeeded", "logout", "token_issue",
           "token_create_for_email", "login_attempts_purge"]
