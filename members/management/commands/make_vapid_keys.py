"""Print a new VAPID key pair for web push, as lines for .env:

    python manage.py make_vapid_keys >> .env

The private key is the 32-byte P-256 scalar, the public key the 65-byte
uncompressed point browsers subscribe with (PushManager.subscribe's
applicationServerKey), both base64url without padding: the forms pywebpush
and the browsers take. Changing the keys later orphans every subscription
(browsers must subscribe again), so keep them with the other secrets."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from members.push import vapid_keys_new


class Command(BaseCommand):
    help = "Print a new VAPID key pair for web push as VAPID_*_KEY lines for .env."

    def handle(self, *args, **options):
        private, public = vapid_keys_new()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}")
