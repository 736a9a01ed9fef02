"""Create a till token for the POS API: `manage.py create_api_token STORE_CODE [--name NAME]`.

The raw token is printed once, alone on the last line, so a script can take it
with `tail -n 1`; only its hash is stored.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.utils.translation import gettext as _

from members.models import ApiToken, Store
from members.services import api_token_create, store_get_or_create


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


class Command(BaseCommand):
    help = (
        "Create an API token for a store's till, creating the store if it does not "
        "exist. Prints the raw token alone on the last line; it cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("store_code", help="The store's code, e.g. kyiv-center.")
        parser.add_argument(
            "--name", default="till", help='The till\'s name, e.g. "Till 2".'
        )

    def handle(self, *args, store_code: str, name: str, **options):
        code = store_code.strip()
        try:
            validate_slug(code)
        except ValidationError:
            raise CommandError(
                _(
                    "“%(code)s” is not a store code: use letters, digits, hyphens "
                    "and underscores only."
                )
                % {"code": store_code}
            ) from None
        if len(code) > _max_length(Store, "code"):
            raise CommandError(
                _("The store code is longer than %(max)s characters.")
                % {"max": _max_length(Store, "code")}
            )
        name = name.strip()
        if not name:
            raise CommandError(_("Give the token a name, e.g. --name “Till 2”."))
        if len(name) > _max_length(ApiToken, "name"):
            raise CommandError(
                _("The token name is longer than %(max)s characters.")
                % {"max": _max_length(ApiToken, "name")}
            )

        store, created = store_get_or_create(code=code)
        if created:
            self.stdout.write(_("Created store %(code)s.") % {"code": store.code})
        if not store.is_active:
            self.stderr.write(
                _(
                    "Store %(code)s is inactive: the token will not authenticate "
                    "until the store is activated."
                )
                % {"code": store.code}
            )
        token, raw = api_token_create(store=store, name=name)
        self.stdout.write(
            _("Token “%(name)s” for store %(code)s (starts with %(prefix)s):")
            % {"name": token.name, "code": store.code, "prefix": token.prefix}
        )
        self.stdout.write(raw)
