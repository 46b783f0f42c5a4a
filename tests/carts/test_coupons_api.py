"""SPEC §4: coupons through the API (create, list, get, patch)."""

from decimal import Decimal

import pytest

from carts.models import Coupon
from tests.carts.factories import CouponFactory

pytestmark = pytest.mark.django_db

URL = "/api/admin/coupons"


def test_create_coupon(api):
    r = api.post(URL, {"code": " summer10 ", "discount_type": "percent", "value": "10", "free_shipping": True,
                       "min_subtotal": "25.00", "starts_at": "2025-06-01T00:00:00Z", "ends_at": "2025-09-01T00:00:00Z",
                       "usage_limit": 100, "usage_limit_per_customer": 1}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["code"] == "SUMMER10"
    assert body["discount_type"] == "percent"
    assert body["value"] == "10.00"
    assert body["min_subtotal"] == "25.00"
    assert body["usage_limit"] == 100 and body["usage_limit_per_customer"] == 1
    assert body["times_used"] == 0
    assert body["is_active"] is True
    assert body["free_shipping"] is True
    coupon = Coupon.objects.get(code="SUMMER10")
    assert coupon.value == Decimal("10.00") and coupon.min_subtotal == Decimal("25.00")


def test_times_used_is_read_only(api):
    r = api.post(URL, {"code": "X", "discount_type": "fixed", "value": "5", "times_used": 99}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["times_used"] == 0
    coupon = Coupon.objects.get(code="X")
    r = api.patch(f"{URL}/{coupon.id}", {"times_used": 7}, format="json")
    assert r.status_code == 200
    coupon.refresh_from_db()
    assert coupon.times_used == 0


def test_code_is_unique_case_insensitively(api):
    CouponFactory(code="SAVE")
    r = api.post(URL, {"code": "save", "discount_type": "percent", "value": "5"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "coupon_code_taken"
    assert Coupon.objects.count() == 1


@pytest.mark.parametrize("body,field", [
    ({"discount_type": "percent", "value": "5"}, "code"),
    ({"code": "   ", "discount_type": "percent", "value": "5"}, "code"),
    ({"code": "X" * 33, "discount_type": "percent", "value": "5"}, "code"),
    ({"code": "X", "discount_type": "bogo", "value": "5"}, "discount_type"),
    ({"code": "X", "discount_type": "percent", "value": "101"}, "value"),
    ({"code": "X", "discount_type": "fixed", "value": "-1"}, "value"),
    ({"code": "X", "discount_type": "fixed", "value": "5", "min_subtotal": "-1"}, "min_subtotal"),
    ({"code": "X", "discount_type": "fixed", "value": "5", "starts_at": "2025-02-01T00:00:00Z",
      "ends_at": "2025-01-01T00:00:00Z"}, "ends_at"),
    ({"code": "X", "discount_type": "fixed", "value": "5", "usage_limit": -1}, "usage_limit"),
    ({"code": "X", "discount_type": "fixed", "value": "5", "usage_limit": 10**12}, "usage_limit"),
    ({"code": "X", "discount_type": "fixed", "value": "5", "starts_at": "yesterday"}, "starts_at"),
])
def test_invalid_coupon_is_400(api, body, field):
    r = api.post(URL, body, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error"
    assert field in [e["field"] for e in r.json()["errors"]]
    assert Coupon.objects.count() == 0


def test_list_get_and_patch(api):
    a = CouponFactory(code="A1", value=Decimal("5"))
    b = CouponFactory(code="B2", discount_type="fixed", value=Decimal("3.00"))
    r = api.get(URL)
    assert r.status_code == 200
    assert [c["code"] for c in r.json()["results"]] == ["A1", "B2"]
    r = api.get(f"{URL}/{b.id}")
    assert r.status_code == 200
    assert r.json()["discount_type"] == "fixed" and r.json()["value"] == "3.00"
    r = api.patch(f"{URL}/{a.id}", {"value": "12.5", "is_active": False, "code": "a1-new"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["code"] == "A1-NEW"
    a.refresh_from_db()
    assert (a.code, a.value, a.is_active) == ("A1-NEW", Decimal("12.50"), False)
    assert api.get(f"{URL}/999999").status_code == 404


def test_patch_percent_above_100_is_refused(api):
    coupon = CouponFactory(discount_type="percent", value=Decimal("10"))
    r = api.patch(f"{URL}/{coupon.id}", {"value": "150"}, format="json")
    assert r.status_code == 400
    coupon.refresh_from_db()
    assert coupon.value == Decimal("10.00")


def test_patch_to_a_taken_code_is_409(api):
    CouponFactory(code="TAKEN")
    coupon = CouponFactory(code="MINE")
    r = api.patch(f"{URL}/{coupon.id}", {"code": "taken"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "coupon_code_taken"
    coupon.refresh_from_db()
    assert coupon.code == "MINE"
