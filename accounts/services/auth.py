"""Login, logout and API tokens (SPEC §2)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
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


def _throttle_check(*, email: str, ip_address: str) -> None:
    now = timezone.now()
    window = settings.LOGIN_FAILURE_WINDOW
    since = now - window
    checks = (
        (LoginAttempt.objects.filter(email=email, created_at__gte=since), settings.LOGIN_MAX_FAILURES_PER_EMAIL,
         "this e-mail"),
        (LoginAttempt.objects.filter(ip_address=ip_address, created_at__gte=since),
         settings.LOGIN_MAX_FAILURES_PER_IP, "this IP address"),
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


def login(*, email: str, password: str, ip_address: str) -> IssuedToken:
    email = (email or "").strip().lower()
    _throttle_check(email=email, ip_address=ip_address)
    user = authenticate(username=email, password=password)
    if user is None:
        # Failures outside the window no longer count: drop them here, so the table holds at
        # most one window's worth of failures (nothing else ever purged it).
        login_attempts_purge()
        LoginAttempt.objects.create(email=email, ip_address=ip_address)
        raise InvalidCredentials()
    if not user.is_staff:
        raise NotStaff()
    LoginAttempt.objects.filter(email=email).delete()
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


__all__ = ["IssuedToken", "login", "logout", "token_issue", "token_create_for_email", "login_attempts_purge"]
