from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path, reverse_lazy
from django.utils.functional import lazy
from django.views.generic import RedirectView
from django.views.i18n import set_language

from campaigns.views.health import healthz

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Choosing a language only sets a cookie, so the login page can offer it too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # One sign-in page for the whole site, the admin included.
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(url=reverse_lazy("login"), query_string=True)),
    ),
    # Browsers ask for /favicon.ico whatever the page links; the icon is an SVG. The URL is
    # lazy because the static storage's hashed name is only known once the app is loaded.
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=lazy(static, str)("favicon.svg"))),
    ),
    # For a load balancer or a monitor: no sign-in, no secrets (campaigns/views/health.py).
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("campaigns.urls")),
]
# No route serves MEDIA_ROOT, in any mode: uploads (contact lists, audio) are read only
# through views that check permissions and set the content type themselves.
