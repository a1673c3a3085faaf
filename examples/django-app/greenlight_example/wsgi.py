"""WSGI entry point: gunicorn runs greenlight_example.wsgi:application."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenlight_example.settings")

application = get_wsgi_application()
