"""Sales → Import jobs in the admin (SPEC §13, §14): the "Import orders" upload page, the job's page
with its progress bar (reloading itself while the job runs) and its errors, and who may use them."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sales.models import ImportJob, Order
from tests.accounts.factories import UserFactory
from tests.sales.helpers import import_document as doc

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/sales/importjob/upload/"


def test_upload_runs_the_job_and_its_page_shows_progress_and_errors(admin_client,
                                                                     django_capture_on_commit_callbacks):
    page = admin_client.get("/admin/sales/importjob/").content.decode()
    assert f'href="{UPLOAD}"' in page and "Import orders" in page
    assert admin_client.get(UPLOAD).status_code == 200
    text = "\n".join([json.dumps(doc("ADM-1")), json.dumps(doc("ADM-2", email="<b>bad</b>"))])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(UPLOAD, {"file": SimpleUploadedFile("orders.jsonl", text.encode())})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/sales/importjob/{job.id}/change/"
    assert list(Order.objects.values_list("reference", flat=True)) == ["ADM-1"]
    page = admin_client.get(response["Location"]).content.decode()
    assert '<progress max="100" value="100">' in page
    assert "1 of 1 done · by " in page  # the chunks and the worker processes that ran them
    assert "<td>2</td><td>ADM-2</td><td>validation_error</td>" in page
    assert "&lt;b&gt;bad" in page or "<b>bad</b>" not in page  # the upload's text is escaped
    assert 'http-equiv="refresh"' not in page  # done: no more reloading


def test_a_queued_job_page_reloads_itself(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(UPLOAD, {"file": SimpleUploadedFile("o.jsonl", json.dumps(doc("Q-1")).encode())})
    job = ImportJob.objects.get()
    assert job.status == "queued"
    page = admin_client.get(f"/admin/sales/importjob/{job.id}/change/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page and '<progress max="100" value="0">' in page


def test_a_bad_upload_is_refused_on_the_form(admin_client):
    response = admin_client.post(UPLOAD, {"file": SimpleUploadedFile("o.json", b"[{broken")})
    assert response.status_code == 200 and "not valid JSON" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_only_staff_with_import_permission(client):
    user = UserFactory(is_staff=True, password="secret-pass-123")
    staff = Client()
    staff.force_login(user)
    assert staff.get(UPLOAD).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="import_order"))
    staff = Client()
    staff.force_login(user)
    assert staff.get(UPLOAD).status_code == 200
    assert staff.get("/admin/sales/importjob/").status_code == 200
