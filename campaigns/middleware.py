"""Roles at the door: a signed-in person without a role sees only a page that says so.

Also who acts, and from which address, for the activity log."""

from django.core.exceptions import PermissionDenied

from .login_limits import client_address
from .services.activity import acting_as

# What a person without a role may still reach: signing out and choosing a language.
_OPEN_TO_ANYONE = {"login", "logout", "set_language"}


def has_a_role(user) -> bool:
    """Whether a signed-in user may see the product: a superuser, or one of the roles
    (each role can at least view campaigns)."""
    return user.is_superuser or user.has_perm("campaigns.view_campaign")


class RoleRequiredMiddleware:
    """Refuses every page (403, with a page asking to get a role from an administrator)
    to a signed-in user with no role. The admin stays open to staff, where Django's own
    permissions apply. After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or has_a_role(user):
            return None
        match = request.resolver_match
        if match.url_name in _OPEN_TO_ANYONE:
            return None
        if user.is_staff and match.app_name == "admin":
            return None
        raise PermissionDenied("no role")


class ActivityMiddleware:
    """Lets the activity log know who acts, and from which address (read through the
    trusted proxies), while a request is served. After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_as(user=request.user, address=client_address(request)):
            return self.get_response(request)
