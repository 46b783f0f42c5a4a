from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, router, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from knox.models import AuthToken


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member; the e-mail address is the login (case-insensitive)."""

    email = models.EmailField("e-mail address", max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    # set_unusable_password() since the last save; Django's own marker (``_password``) misses it.
    _password_disabled = False

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = (self.email or "").strip().lower()
        if self._state.adding or not self._revokes_tokens(kwargs.get("update_fields")):
            super().save(*args, **kwargs)
        else:
            # A new password, or a deactivation, revokes the user's API tokens (SPEC §2): a
            # token must not outlive the password it was issued for, nor keep an inactive
            # user's access. Here, not in a form or view, so the admin, `changepassword` and
            # any save do it alike; one transaction, so the change never lands without it.
            with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self), instance=self)):
                super().save(*args, **kwargs)
                AuthToken.objects.filter(user=self).delete()
        self._password_disabled = False

    def _revokes_tokens(self, update_fields: Iterable[str] | None) -> bool:
        """Whether this save changes the password, or saves the user inactive.

        ``_password`` is Django's marker for set_password() since the last save; a hash
        upgrade at login clears it, so a login never revokes anything. A QuerySet
        ``update()`` bypasses save() and revokes nothing.
        """
        fields = None if update_fields is None else set(update_fields)
        password_changed = getattr(self, "_password", None) is not None or self._password_disabled
        if password_changed and (fields is None or "password" in fields):
            return True
        return not self.is_active and (fields is None or "is_active" in fields)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class LoginAttempt(models.Model):
    """A failed login, kept for the throttling window (SPEC §2)."""

    email = models.CharField(max_length=254)
    ip_address = models.CharField(max_length=45)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["email", "created_at"]),
            models.Index(fields=["ip_address", "created_at"]),
        ]
