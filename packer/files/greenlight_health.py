"""greenlight's health check for Django, as one middleware placed first in MIDDLEWARE:

    MIDDLEWARE = ["greenlight_health.HealthCheckMiddleware", ...]

The bake installs this module into the release's virtualenv (packer/scripts/30-release.sh), on the
AMI and in the rehearsal and doctor alike. It answers the paths of the app's manifest
([tool.greenlight] health-path and liveness-path in the pyproject.toml of the working directory,
which the unit sets to the release's app directory) for GET and HEAD, before any other middleware:

  health-path    readiness, what the load balancer checks: 200 {"status": "ok"} only when every
                 database answers SELECT 1, no migration is unapplied, every cache answers and the
                 home page renders; otherwise 503 {"status": "fail", "check": ..., "detail": ...}.
  liveness-path  200 {"status": "ok"}: the process serves requests; touches nothing else.

Both validate the Host against ALLOWED_HOSTS first (400 otherwise), as every other request of the
app does, so a check with the instance's private IP as Host fails where real traffic would.

Settings (all optional): GREENLIGHT_HEALTH = {"path": "/health/", "liveness_path": "/healthz/",
"home_path": "/"} overrides the manifest's paths and the page rendered. A failing check logs its
cause, with the traceback of a home page that raised, on the "greenlight.health" logger.
"""
import logging
import os

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

logger = logging.getLogger("greenlight.health")

DEFAULT_HEALTH_PATH = "/health/"
CACHE_KEY = "greenlight-health-check"


class CheckFailed(Exception):
    def __init__(self, check, detail):
        super().__init__("%s: %s" % (check, detail))
        self.check = check
        self.detail = detail


def manifest_paths(directory=None):
    """health-path and liveness-path of [tool.greenlight] in DIRECTORY/pyproject.toml (default: the working directory)."""
    path = os.path.join(directory or os.getcwd(), "pyproject.toml")
    if tomllib is None or not os.path.isfile(path):
        return {}
    with open(path, "rb") as f:
        table = tomllib.load(f).get("tool", {}).get("greenlight", {})
    return {key: table[key] for key in ("health-path", "liveness-path") if isinstance(table.get(key), str)}


def configured_paths():
    """(health path, liveness path or None, home path), from the settings over the manifest."""
    manifest = manifest_paths()
    own = getattr(settings, "GREENLIGHT_HEALTH", {}) or {}
    health = own.get("path") or manifest.get("health-path") or DEFAULT_HEALTH_PATH
    liveness = own.get("liveness_path") or manifest.get("liveness-path")
    return health, liveness, own.get("home_path", "/")


def check_databases():
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
        except Exception as exc:  # any driver error means "not ready"
            logger.warning("health: database %s failed: %s: %s", alias, type(exc).__name__, exc)
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
    for alias in caches:
        try:
            cache = caches[alias]
            cache.set(CACHE_KEY, "ok", 10)
            answer = cache.get(CACHE_KEY)
        except Exception as exc:
            logger.warning("health: cache %s failed: %s: %s", alias, type(exc).__name__, exc)
            raise CheckFailed("cache", "%s: %s" % (alias, type(exc).__name__))
        if answer != "ok":
            raise CheckFailed("cache", "%s: value not stored" % alias)


def check_home_page(request, home_path):
    """The home page through the whole app, with the Host the check passed, following its redirects:
    it must not raise or answer 5xx (a 4xx is the app's answer, as it is for a load balancer)."""
    from django.test import Client

    try:
        response = Client(raise_request_exception=True).get(home_path, follow=True, HTTP_HOST=request.get_host(), secure=request.is_secure())
    except Exception as exc:
        logger.exception("health: GET %s raised %s", home_path, type(exc).__name__)
        raise CheckFailed("home", "GET %s raised %s: %s" % (home_path, type(exc).__name__, str(exc)[:200]))
    if response.status_code >= 500:
        logger.warning("health: GET %s answered %d", home_path, response.status_code)
        raise CheckFailed("home", "GET %s answered %d" % (home_path, response.status_code))


def readiness(request, home_path):
    try:
        check_databases()
        check_migrations()
        check_caches()
        check_home_page(request, home_path)
    except CheckFailed as failure:
        return JsonResponse({"status": "fail", "check": failure.check, "detail": failure.detail}, status=503)
    return JsonResponse({"status": "ok"})


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.health_path, self.liveness_path, self.home_path = configured_paths()

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or request.path not in (self.health_path, self.liveness_path):
            return self.get_response(request)
        # DisallowedHost here becomes Django's 400, as for any request on that Host.
        request.get_host()
        if request.path == self.liveness_path:
            return JsonResponse({"status": "ok"})
        return readiness(request, self.home_path)

