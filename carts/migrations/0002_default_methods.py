from decimal import Decimal

from django.db import migrations


def forwards(apps, schema_editor):
    ShippingMethod = apps.get_model("carts", "ShippingMethod")
    PaymentMethod = apps.get_model("carts", "PaymentMethod")
    for order, (code, title, amount) in enumerate((("flatrate", "Flat rate", Decimal("5.00")),
                                                   ("free", "Free shipping", Decimal("0")),
                                                   ("pickup", "Pick up in store", Decimal("0")))):
        ShippingMethod.objects.get_or_create(code=code, defaults={"title": title, "amount": amount, "enabled": True,
                                                                  "calc": "per_order", "sort_order": order})
    for order, (code, title) in enumerate((("cashondelivery", "Cash on delivery"),
                                           ("moneytransfer", "Bank transfer"),
                                           ("paypal_standard", "PayPal"),
                                           ("paylink", "Pay by link"))):
        PaymentMethod.objects.get_or_create(code=code, defaults={"title": title, "enabled": True, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("carts", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
