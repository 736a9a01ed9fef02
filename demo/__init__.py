"""The demo data set: `manage.py seed_demo` and what it builds, above every app."""
