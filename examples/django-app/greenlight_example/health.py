"""Liveness and readiness, answered by the first middleware so that nothing behind it
(sessions, auth, views) can turn a dependency outage into a 500 or a hang.

  /healthz/  liveness: the process serves requests; touches nothing else.
  /health/   readiness, what the load balancer checks: every database answers SELECT 1, no migration
             is unapplied, every cache answers, and the home page renders. Otherwise 503
             with a short JSON reason such as {"status": "fail", "check": "database", "detail": "default: OperationalError"}.
"""
import logging

from django.core.cache import caches
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_safe

logger = logging.getLogger("greenlight.health")

LIVENESS_PATH = "/healthz/"
READINESS_PATH = "/health/"
HOME_PATH = "/"


class CheckFailed(Exception):
    def __init__(self, check, detail):
        super().__init__("%s: %s" % (check, detail))
        self.check = check
        self.detail = detail


def check_databases():
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
        except Exception as exc:  # any driver error means "not ready"
            logger.warning("health: database %s failed: %s", alias, exc)
            raise CheckFailed("database", "%s: %s" % (alias, type(exc).__name__))
        if row is None or row[0] != 1:
            raise CheckFailed("database", "%s: unexpected answer to SELECT 1" % alias)


def check_migrations():
    for alias in connections:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            names = ["%s.%s" % (migration.app_label, migration.name) for migration, _backwards in plan]
            logger.warning("health: unapplied migrations on %s: %s", alias, ", ".join(names))
            raise CheckFailed("migrations", "%s: %d unapplied" % (alias, len(names)))


def check_caches():
    key = "greenlight-health-check"
    for alias in caches:
        try:
            cache = caches[alias]
            cache.set(key, "ok", 10)
            answer = cache.get(key)
        except Exception as exc:
            logger.warning("health: cache %s failed: %s", alias, exc)
            raise CheckFailed("cache", "%s: %s" % (alias, type(exc).__name__))
        if answer != "ok":
            raise CheckFailed("cache", "%s: value not stored" % alias)


def check_home_page(request):
    # An internal request through the whole stack, with the Host the check already passed.
    from django.test import Client

    client = Client(raise_request_exception=False)
    try:
        response = client.get(HOME_PATH, HTTP_HOST=request.get_host())
    except Exception as exc:
        raise CheckFailed("home", "%s" % type(exc).__name__)
    if response.status_code != 200:
        logger.warning("health: %s answered %d", HOME_PATH, response.status_code)
        raise CheckFailed("home", "status %d" % response.status_code)


def liveness():
    return JsonResponse({"status": "ok"})


def readiness(request):
    try:
        check_databases()
        check_migrations()
        check_caches()
        check_home_page(request)
    except CheckFailed as failure:
        return JsonResponse({"status": "fail", "check": failure.check, "detail": failure.detail}, status=503)
    return JsonResponse({"status": "ok"})


@require_safe
def liveness_view(request):
    return liveness()


@require_safe
def readiness_view(request):
    return readiness(request)


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path in (READINESS_PATH, LIVENESS_PATH):
            # Host is validated as for any request (a 400 when the instance IP is not allowed), so a
            # passing check means real traffic on that Host works too.
            request.get_host()
            # Exact paths only: `/health` must not be answered here (see urls.py).
            if request.path == READINESS_PATH:
                return readiness(request)
            if request.path == LIVENESS_PATH:
                return liveness()
        return self.get_response(request)
