from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from loyalty_site.views import app, portal
from members import urls as members_urls
from members.branding import branding_get
from members.forms import LoginForm
from members.views import PasswordResetRequestView, healthz


class FaviconView(RedirectView):
    """/favicon.ico, which browsers ask for on their own: the icon the pages
    link (the branding's, else the SVG). Temporary: it changes with them."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs) -> str:
        return branding_get().favicon_url


# The customer portal ("portal:..."): the pages that combine apps, then members'.
portal_urls = [
    path("", portal.home, name="home"),
    path("dashboard/", portal.dashboard, name="dashboard"),
    path("card/", portal.card, name="card"),
    *members_urls.urlpatterns,
]

api_v1 = [
    path("", include("members.api.urls")),
    path("", include("rewards.api.urls")),
    path("", include("analytics.api.urls")),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own:
    # the Content Security Policy allows no inline script. Its page template
    # has one small <style> block, allowed on this page only.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-v1:schema")
        ),
        name="docs",
    ),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    # The program's look and the installable card (loyalty_site.views.app).
    path("branding/<str:part>.css", app.branding_css, name="branding_css"),
    path("manifest.webmanifest", app.manifest, name="manifest"),
    path("app-icon/<int:size>.png", app.app_icon, name="app_icon"),
    path("sw.js", app.service_worker, name="service_worker"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api-v1"))),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="members/login.html", authentication_form=LoginForm
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        PasswordResetRequestView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="members/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="members/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="members/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("statement/", include("rewards.urls")),
    path("wallet/", include("rewards.wallet.urls")),
    path("", include("rewards.urls_catalog")),
    path("", include("rewards.payments.urls")),
    path("", include("campaigns.urls")),
    path("", include("analytics.urls")),
    path("", include((portal_urls, "portal"))),
]
# Uploaded files (reward pictures, logo): Django serves them with DEBUG on only
# (make run); production serves MEDIA_ROOT itself (docs/operations.md).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
