from django.urls import path

from . import health, views

urlpatterns = [
    path("", views.home, name="home"),
    # The middleware answers these first; the patterns exist so that Django's APPEND_SLASH turns
    # `/health` into a 301 (a load balancer counts a 301 as a failure).
    path("healthz/", health.liveness_view, name="healthz"),
    path("health/", health.readiness_view, name="health"),
]
