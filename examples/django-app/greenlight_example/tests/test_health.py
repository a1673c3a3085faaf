import json
from unittest import mock

from django.core.management import call_command
from django.db import OperationalError, connections
from django.http import HttpResponseServerError
from django.test import TestCase, TransactionTestCase, override_settings

from greenlight_example import health
from greenlight_example.models import Greeting


def body(response):
    return json.loads(response.content.decode())


class ExplodingMiddleware:
    """Stands for any middleware that touches the database: the health check must answer before it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return HttpResponseServerError("reached a middleware behind the health check")


def broken_home(request):
    raise RuntimeError("template blew up")


urlpatterns_broken_home = [__import__("django.urls").urls.path("", broken_home)]


@override_settings(ALLOWED_HOSTS=["10.0.3.17"])
class ReadinessTests(TestCase):
    def get(self, path, **extra):
        return self.client.get(path, HTTP_HOST="10.0.3.17", **extra)

    def test_ready_when_every_check_passes(self):
        Greeting.objects.create(text="hello")
        response = self.get("/health/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(body(response), {"status": "ok"})
        self.assertEqual(response["Content-Type"], "application/json")

    def test_head_is_answered_too(self):
        self.assertEqual(self.client.head("/health/", HTTP_HOST="10.0.3.17").status_code, 200)

    def test_liveness_touches_no_database(self):
        with mock.patch.object(health, "check_databases", side_effect=AssertionError("liveness ran a check")):
            response = self.get("/healthz/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(body(response), {"status": "ok"})

    def test_database_failure_is_a_clean_503(self):
        with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor",
                        side_effect=OperationalError("could not connect to server")):
            response = self.get("/health/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(body(response), {"status": "fail", "check": "database", "detail": "default: OperationalError"})

    def test_cache_failure_is_a_503(self):
        with mock.patch("django.core.cache.backends.locmem.LocMemCache.set", side_effect=ConnectionError("down")):
            response = self.get("/health/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(body(response)["check"], "cache")

    def test_home_page_must_render(self):
        # The internal request's exception would otherwise reach this test's client through Django's signal.
        self.client.raise_request_exception = False
        with override_settings(ROOT_URLCONF=__name__):
            response = self.get("/health/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(body(response), {"status": "fail", "check": "home", "detail": "status 500"})

    def test_answers_before_later_middleware(self):
        stack = ["greenlight_example.health.HealthCheckMiddleware", __name__ + ".ExplodingMiddleware"]
        with override_settings(MIDDLEWARE=stack):
            self.assertEqual(self.get("/").status_code, 500)
            self.assertEqual(self.get("/healthz/").status_code, 200)
            # The health check answers with its own JSON; its internal home-page request goes
            # through the whole stack, so the broken middleware shows up as a failed check.
            response = self.get("/health/")
            self.assertEqual(response.status_code, 503)
            self.assertEqual(body(response), {"status": "fail", "check": "home", "detail": "status 500"})

    def test_health_without_slash_is_a_redirect_not_200(self):
        # APPEND_SLASH answers /health with a 301, which a load balancer counts as a failure.
        response = self.get("/health")
        self.assertEqual(response.status_code, 301)
        self.assertEqual(response["Location"], "/health/")

    def test_post_is_not_a_health_check(self):
        self.assertNotEqual(self.client.post("/health/", HTTP_HOST="10.0.3.17").status_code, 200)

    def test_unknown_host_is_rejected(self):
        # The health check validates Host like any request: an instance whose IP is missing from
        # ALLOWED_HOSTS fails its check with a 400 instead of passing and then failing real traffic.
        self.assertEqual(self.client.get("/health/", HTTP_HOST="evil.example").status_code, 400)
        self.assertEqual(self.client.get("/healthz/", HTTP_HOST="evil.example").status_code, 400)


urlpatterns = urlpatterns_broken_home


class UnappliedMigrationTests(TransactionTestCase):
    def tearDown(self):
        call_command("migrate", "greenlight_example", verbosity=0)

    @override_settings(ALLOWED_HOSTS=["10.0.3.17"])
    def test_unapplied_migration_is_a_503(self):
        call_command("migrate", "greenlight_example", "0001", verbosity=0)
        response = self.client.get("/health/", HTTP_HOST="10.0.3.17")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(body(response), {"status": "fail", "check": "migrations", "detail": "default: 1 unapplied"})
        call_command("migrate", "greenlight_example", verbosity=0)
        self.assertEqual(self.client.get("/health/", HTTP_HOST="10.0.3.17").status_code, 200)


class CheckUnitTests(TestCase):
    def test_unexpected_select_answer_fails(self):
        cursor = mock.MagicMock()
        cursor.__enter__.return_value.fetchone.return_value = (2,)
        with mock.patch.object(connections["default"], "cursor", return_value=cursor):
            with self.assertRaises(health.CheckFailed) as caught:
                health.check_databases()
        self.assertEqual(caught.exception.check, "database")
