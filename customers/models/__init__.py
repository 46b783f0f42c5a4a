from .customer import ADDRESS_FIELDS, ADDRESS_REQUIRED_FIELDS, Customer, CustomerAddress

__all__ = ["ADDRESS_FIELDS", "ADDRESS_REQUIRED_FIELDS", "Customer", "CustomerAddress"]
