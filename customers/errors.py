from config.errors import Conflict, InvalidInput


class CustomerNotFound(InvalidInput):
    code = "customer_not_found"
    default_message = "Customer not found."


class CustomerEmailTaken(Conflict):
    code = "customer_email_taken"
    default_message = "A customer with this e-mail already exists."
