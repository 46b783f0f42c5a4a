from decimal import Decimal

from django.db import migrations


def forwards(apps, schema_editor):
    InventorySource = apps.get_model("catalog", "InventorySource")
    Currency = apps.get_model("catalog", "Currency")
    InventorySource.objects.get_or_create(code="default", defaults={"name": "Default warehouse", "priority": 0,
                                                                     "active": True, "pickup_enabled": False})
    for code, name, symbol, rate in (("USD", "US Dollar", "$", Decimal("1")), ("EUR", "Euro", "€", Decimal("0.92")),
                                     ("GBP", "British Pound", "£", Decimal("0.79"))):
        Currency.objects.get_or_create(code=code, defaults={"name": name, "symbol": symbol, "rate": rate,
                                                            "enabled": True})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
