from config.errors import DomainError


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    default_message = "E-mail or password is wrong, or the account is inactive."


class NotStaff(DomainError):
    code = "permission_denied"
    status = 403
    default_message = "Only staff users may use the admin API."


class LoginThrottled(DomainError):
    code = "throttled"
    status = 429
    default_message = "Too many failed logins; try again later."


class UserNotFound(DomainError):
    code = "user_not_found"
    status = 400


class UserNotStaff(DomainError):
    code = "user_not_staff"
    status = 400
