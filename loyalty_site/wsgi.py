import os

from django.core.wsgi import get_wsgi_application

from loyalty_site.process import process_started

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
application = get_wsgi_application()
process_started()  # each gunicorn worker imports this module once
