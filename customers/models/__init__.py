# The one address shape (ADDRESS_FIELDS) lives in config.addresses; it is re-exported here for the apps above.
from config.addresses import ADDRESS_FIELDS

from .customer import EMAIL_MAX_LENGTH, Customer, CustomerAddress, email_clean

__all__ = ["ADDRESS_FIELDS", "EMAIL_MAX_LENGTH", "Customer", "CustomerAddress", "email_clean"]
