import pytest

from sales.models import Invoice
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


def test_same_key_same_body_replays_and_never_bills_twice(api):
    order = placed_order()
    url = f"/api/admin/orders/{order.id}/invoices"
    first = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="inv-1")
    assert first.status_code == 201
    again = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="inv-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Invoice.objects.filter(order=order).count() == 1
    # Without the key the second call is a real one, and is refused: nothing left to invoice.
    assert api.post(url, {}, format="json").json()["code"] == "order_not_invoiceable"


def test_different_body_is_422_and_refusals_are_replayed(api):
    order = placed_order()
    item_id = order.items.get().id
    url = f"/api/admin/orders/{order.id}/invoices"
    bad = api.post(url, {"items": [{"order_item_id": item_id, "quantity": 99}]}, format="json",
                   HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 409 and bad.json()["code"] == "quantity_exceeds_remaining"
    replay = api.post(url, {"items": [{"order_item_id": item_id, "quantity": 99}]}, format="json",
                      HTTP_IDEMPOTENCY_KEY="k")
    assert replay.status_code == 409 and replay.json() == bad.json()
    reused = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert Invoice.objects.count() == 0


def test_keys_are_scoped_by_path_and_dry_runs_are_not_stored(api):
    a, b = placed_order(), placed_order()
    r1 = api.post(f"/api/admin/orders/{a.id}/invoices?dry_run=true", {}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert r1.status_code == 200 and r1.json()["dry_run"] is True
    r2 = api.post(f"/api/admin/orders/{a.id}/invoices", {}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert r2.status_code == 201
    r3 = api.post(f"/api/admin/orders/{b.id}/invoices", {}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert r3.status_code == 201 and r3.json()["id"] != r2.json()["id"]


# ---------------------------------------------------------------- multipart (SPEC §11)

def _multipart(api, boundary: str, files: dict[str, bytes], key: str, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import encode_multipart

    data = {**fields, **{name: SimpleUploadedFile(f"{name}.jsonl", body) for name, body in files.items()}}
    return api.generic("POST", "/api/admin/import-jobs", encode_multipart(boundary, data),
                       content_type=f"multipart/form-data; boundary={boundary}", HTTP_IDEMPOTENCY_KEY=key)


def _jsonl(*references: str, pad: int = 0) -> bytes:
    """JSON Lines of import documents, each line padded with ``pad`` trailing spaces (still JSON)."""
    import json

    lines = [json.dumps({"reference": ref, "email": f"{ref.lower()}@example.com", "notify": False,
                         "items": [{"sku": "CUSTOM", "name": "Custom", "quantity": 1,
                                    "price": {"amount": 1000, "tax": 200}}]}) + " " * pad for ref in references]
    return "\n".join(lines).encode()


def test_a_multipart_retry_with_another_boundary_replays(api, django_capture_on_commit_callbacks):
    from sales.models import ImportJob

    body = _jsonl("MP-1", "MP-2")
    with django_capture_on_commit_callbacks(execute=True):
        first = _multipart(api, "first-boundary-1", {"file": body}, "mp")
    assert first.status_code == 202, first.content[:300]
    again = _multipart(api, "another-boundary-2", {"file": body}, "mp")
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ImportJob.objects.count() == 1
    # Another file under the same key: 422, and nothing more is queued.
    other = _multipart(api, "b3", {"file": _jsonl("MP-3")}, "mp")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert ImportJob.objects.count() == 1


def test_a_multipart_upload_larger_than_the_body_limit_may_carry_a_key(api, settings,
                                                                       django_capture_on_commit_callbacks):
    """The file goes through Django's upload handlers (to a temporary file past 2.5 MB), not into
    memory as one body: with a key it is accepted as without one (it was a 413)."""
    from sales.models import ImportJob, Order

    body = _jsonl(*[f"BIG-{n}" for n in range(30)], pad=100_000)  # ~3 MB
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with django_capture_on_commit_callbacks(execute=True):
        first = _multipart(api, "big-1", {"file": body}, "big")
    assert first.status_code == 202, first.content[:300]
    replay = _multipart(api, "big-2", {"file": body}, "big")
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"
    assert ImportJob.objects.count() == 1 and Order.objects.filter(reference__startswith="BIG-").count() == 30


def test_a_403_is_not_kept_so_the_retry_after_the_grant_runs(staff_api):
    from django.contrib.auth.models import Permission

    order = placed_order()
    client = staff_api("sales.view_order")
    url = f"/api/admin/orders/{order.id}/invoices"
    denied = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="perm")
    assert denied.status_code == 403
    from accounts.models import User

    staff = User.objects.filter(is_staff=True, is_superuser=False).latest("id")  # the client's user
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="sales", codename="add_invoice"))
    granted = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="perm")
    assert granted.status_code == 201 and "Idempotent-Replayed" not in granted
    assert Invoice.objects.filter(order=order).count() == 1


def test_login_ignores_the_header(admin_user):
    """SPEC §11: two logins with one key are two logins, two tokens (even sent with a valid token)."""
    from tests.conftest import client_for

    admin_user.set_password("pass-word-123")
    admin_user.save()
    api = client_for(admin_user)  # a token made after the password change (which ends the older ones)
    assert api.get("/api/admin/orders").status_code == 200
    body = {"email": admin_user.email, "password": "pass-word-123"}
    first = api.post("/api/admin/login", body, format="json", HTTP_IDEMPOTENCY_KEY="login")
    again = api.post("/api/admin/login", body, format="json", HTTP_IDEMPOTENCY_KEY="login")
    assert first.status_code == again.status_code == 200, first.content[:300]
    assert "Idempotent-Replayed" not in again and first.json()["token"] != again.json()["token"]
