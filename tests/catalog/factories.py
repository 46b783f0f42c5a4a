from decimal import Decimal

import factory

from catalog.models import InventorySource, Product, ProductInventory, TaxCategory, TaxRate


def default_source() -> InventorySource:
    return InventorySource.objects.get(code="default")


class InventorySourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventorySource

    code = factory.Sequence(lambda n: f"src{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    priority = 10
    active = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    type = "simple"
    price = Decimal("10.00")
    status = "enabled"

    @factory.post_generation
    def stock(self, create, extracted, **kwargs):
        """ProductFactory(stock=5) puts 5 units at the default source."""
        if create and extracted is not None:
            ProductInventory.objects.create(product=self, source=default_source(), qty=extracted)


class TaxCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxCategory

    code = factory.Sequence(lambda n: f"tax{n}")
    name = factory.Sequence(lambda n: f"Tax class {n}")


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    category = factory.SubFactory(TaxCategoryFactory)
    country = "US"
    zone = ""
    rate = Decimal("10.0000")
