from decimal import Decimal

import factory

from carts.models import Cart, Coupon
from tests.customers.factories import CustomerFactory


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n}")
    discount_type = "percent"
    value = Decimal("10.00")


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    customer = factory.SubFactory(CustomerFactory)
    currency = "USD"
    exchange_rate = Decimal("1")
