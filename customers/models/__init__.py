from .customer import ADDRESS_FIELDS, ADDRESS_REQUIRED_FIELDS, EMAIL_MAX_LENGTH, Customer, CustomerAddress, email_clean

__all__ = ["ADDRESS_FIELDS", "ADDRESS_REQUIRED_FIELDS", "EMAIL_MAX_LENGTH", "Customer", "CustomerAddress", "email_clean"]
