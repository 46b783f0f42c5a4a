"""Celery, wired the Django way (SPEC §13).

Settings come from Django's settings under the ``CELERY_`` namespace, themselves read from the
environment (config/settings.py). With ``CELERY_BROKER_URL`` set (``redis://…`` or
``amqp://…``) tasks go to the workers (``make worker``: ``celery -A config worker -B``); without
it every task runs in-process when it is sent (``task_always_eager``), and the tasks of an
action are sent from ``transaction.on_commit`` — so they run right after the commit and
``make run`` / ``make test`` need nothing more. Tasks live in each app's ``tasks.py`` and are
thin: they call services.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def broker_configured() -> bool:
    """True when tasks go to workers through a broker, False when they run in-process."""
    return not app.conf.task_always_eager
