"""The admin's login form, through the same throttle as the API login (SPEC §2)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from accounts.authentication import client_ip
from accounts.errors import InvalidCredentials, LoginThrottled
from accounts.services import auth


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """Django's admin login form, checking the password through ``auth.credentials_check``.

    Its failures count toward the API login's per-e-mail and per-address limits (and the
    API's toward its), and while throttled it refuses even the right password, saying why
    and for how long. Only the check is replaced: the staff check, messages and session
    login stay Django's.
    """

    @sensitive_variables()
    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            try:
                self.user_cache = auth.credentials_check(email=email, password=password,
                                                         ip_address=client_ip(self.request))
            except LoginThrottled as exc:
                raise ValidationError(exc.message, code=exc.code) from None
            except InvalidCredentials:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
            auth.login_succeeded(user=self.user_cache)
        return self.cleaned_data
