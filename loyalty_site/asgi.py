import os

from django.core.asgi import get_asgi_application

from loyalty_site.process import process_started

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
application = get_asgi_application()
process_started()
