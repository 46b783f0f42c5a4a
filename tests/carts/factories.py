from decimal import Decimal

import factory

from carts.models import Coupon


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n}")
    discount_type = "percent"
    value = Decimal("10.00")
