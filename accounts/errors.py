from accounts.error_codes import AccountErrorCode
from config.error_codes import CommonErrorCode
from config.errors import DomainError


class InvalidCredentials(DomainError):
    code = AccountErrorCode.INVALID_CREDENTIALS
    status = 401
    default_message = "E-mail or password is wrong, or the account is inactive."


class NotStaff(DomainError):
    code = CommonErrorCode.PERMISSION_DENIED
    status = 403
    default_message = "Only staff users may use the admin API."


class LoginThrottled(DomainError):
    code = CommonErrorCode.THROTTLED
    status = 429
    default_message = "Too many failed logins; try again later."


class UserNotFound(DomainError):
    code = AccountErrorCode.USER_NOT_FOUND
    status = 400


class UserNotStaff(DomainError):
    code = AccountErrorCode.USER_NOT_STAFF
    status = 400
