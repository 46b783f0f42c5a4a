"""E-mail backends for the tests: a mail server that refuses, or refuses the first few sends.

Set ``settings.EMAIL_BACKEND = "tests.sales.mail_backends.RefusingBackend"``; every send is
counted in ``attempts`` (class-level, reset by the tests), whatever the process."""

from __future__ import annotations

import os
import smtplib

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class RefusingBackend(BaseEmailBackend):
    """Every send fails as an SMTP server that is down would."""

    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed (test server down)")


class FlakyBackend(LocmemBackend):
    """Fails the first ``FLAKY_FAILURES`` sends (environment, default 2), then delivers to the
    locmem outbox."""

    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        if type(self).attempts <= int(os.environ.get("FLAKY_FAILURES", "2")):
            raise ConnectionRefusedError(111, "Connection refused (test server restarting)")
        return super().send_messages(email_messages)


__all__ = ["FlakyBackend", "RefusingBackend", "mail"]
