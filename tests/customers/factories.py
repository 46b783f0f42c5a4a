import factory

from customers.models import Customer, CustomerAddress


def address(**overrides) -> dict:
    data = {"first_name": "Jane", "last_name": "Doe", "company": "", "phone": "+1 555 0100", "line_1": "1 Main St",
            "line_2": "", "city": "Springfield", "zone": "IL", "postcode": "62701", "country": "US"}
    data.update(overrides)
    return data


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Jane"
    last_name = factory.Sequence(lambda n: f"Doe{n}")


class CustomerAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAddress

    customer = factory.SubFactory(CustomerFactory)
    first_name = "Jane"
    last_name = "Doe"
    line_1 = "1 Main St"
    city = "Springfield"
    postcode = "62701"
    country = "US"
