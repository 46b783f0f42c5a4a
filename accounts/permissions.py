"""Staff-only access plus Django model permissions (SPEC §2).

A view declares what it needs with ``required_perms`` — a dict from HTTP method to a
list of permission names — or relies on its queryset's model permissions (view_* for
reads, add_* / change_* / delete_* for writes).
"""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

_METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class StaffModelPermissions(BasePermission):
    message = "You do not have permission to perform this action."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated("Authentication credentials were not provided or are invalid.")
        if not user.is_active or not user.is_staff:
            raise exceptions.PermissionDenied("Only active staff users may use the admin API.")
        perms = self.required_perms(request, view)
        missing = [p for p in perms if not user.has_perm(p)]
        if missing:
            raise exceptions.PermissionDenied(f"Missing permission: {', '.join(missing)}.")
        return True

    @staticmethod
    def required_perms(request, view) -> list[str]:
        declared = getattr(view, "required_perms", None)
        if declared is not None:
            if callable(declared):
                return list(declared(request))
            if request.method in declared:
                return list(declared[request.method])
            if request.method in ("HEAD", "OPTIONS") and "GET" in declared:
                return list(declared["GET"])
            if "*" in declared:
                return list(declared["*"])
            # A method the view did not declare falls back to model permissions, never to "none".
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return ["__undeclared__.deny"] if declared is not None else []
        model = queryset.model
        action = _METHOD_ACTIONS.get(request.method, "view")
        return [f"{model._meta.app_label}.{action}_{model._meta.model_name}"]
