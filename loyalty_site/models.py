"""No models. The module exists because Django sends post_migrate only to apps
that have a models module, and loyalty_site/apps.py hangs the staff roles sync
(loyalty_site/roles.py) on this app's post_migrate: it comes after the four
apps in INSTALLED_APPS, so it runs once, after all of them have migrated."""
