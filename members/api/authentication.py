"""Till authentication: `Authorization: Token <token>`, one token per till, hashed at rest."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from members.models import ApiToken
from members.services import api_token_check


class TillPrincipal:
    """Stands in for request.user on API calls: the store whose till is calling."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.store = token.store

    def __str__(self) -> str:
        return f"till {self.token}"


class StoreTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as “Authorization: Token <token>”.")
            )
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                _("The token contains invalid characters.")
            ) from None
        token = api_token_check(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        now = timezone.now()
        if (
            token.last_used_at is None
            or (now - token.last_used_at).total_seconds() > 60
        ):
            # Bookkeeping only, at most once a minute per token so hot tills don't write every call.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now  # a token this process keeps (api_token_check)
        return TillPrincipal(token), token

    def authenticate_header(self, request):
        return self.keyword


class HasStoreToken(permissions.BasePermission):
    message = _("Send a till token: “Authorization: Token <token>”.")

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiToken)


class StoreTokenScheme(OpenApiAuthenticationExtension):
    target_class = "members.api.authentication.StoreTokenAuthentication"
    name = "tillToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Per-store till token: `Token <token>`",
        }
