from config.errors import Conflict, InvalidInput
from customers.error_codes import CustomerErrorCode


class CustomerNotFound(InvalidInput):
    code = CustomerErrorCode.CUSTOMER_NOT_FOUND
    default_message = "Customer not found."


class CustomerEmailTaken(Conflict):
    code = CustomerErrorCode.CUSTOMER_EMAIL_TAKEN
    default_message = "A customer with this e-mail already exists."
