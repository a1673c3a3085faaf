// A third Django project, written the way current tutorials teach, on packages Debian 12 does not
// ship: Django 5.2, dj-database-url and python-dotenv, installed by the bake from the app's wheels/
// (which the tests fill with `pip download`). Project `lending`, settings `lending.settings`, WSGI
// `lending.wsgi:application`, its secret named DJANGO_SECRET_KEY, a home page that redirects to
// /catalog/, and greenlight's own health middleware first in MIDDLEWARE. Version 2 adds a nullable
// column (an expand migration). Each trap builds it the way docs/health-contract.md says breaks it.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LendingOptions {
  readonly version: 1 | 2;
  /** Where the wheels were downloaded; copied into the project's wheels/. */
  readonly wheels: string;
  /** The catalog page (where the home page redirects) renders a template that does not exist. */
  readonly homeRaises?: boolean;
  /** Its own health view, first in MIDDLEWARE, that never validates the Host. */
  readonly noHostCheck?: boolean;
  /** Settings need DJANGO_SECRET_KEY even at bake, so the static step fails. */
  readonly staticFails?: boolean;
}

export const LENDING_REQUIREMENTS = ['Django>=5.2,<6', 'dj-database-url>=2', 'python-dotenv>=1'];

export function writeLending(dir: string, o: LendingOptions): string {
  const file = (name: string, lines: readonly string[]) => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), `${lines.join('\n')}\n`);
  };
  fs.cpSync(o.wheels, path.join(dir, 'wheels'), { recursive: true });
  file('requirements.txt', [...LENDING_REQUIREMENTS, 'psycopg2>=2.8']);
  file('manage.py', [
    'import os, sys',
    'if __name__ == "__main__":',
    '    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lending.settings")',
    '    from django.core.management import execute_from_command_line',
    '    execute_from_command_line(sys.argv)',
  ]);
  file('pyproject.toml', [
    '[project]',
    'name = "lending"',
    `version = "${o.version}.0"`,
    '',
    '[tool.greenlight]',
    'wsgi = "lending.wsgi:application"',
    'settings = "lending.settings"',
    'health-path = "/health/"',
    'liveness-path = "/healthz/"',
    'required-env = ["DJANGO_SECRET_KEY", "DATABASE_URL"]',
    'static = ["manage.py", "collectstatic", "--no-input"]',
  ]);
  file('lending/__init__.py', ['']);
  file('lending/wsgi.py', [
    'import os',
    'from django.core.wsgi import get_wsgi_application',
    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lending.settings")',
    'application = get_wsgi_application()',
  ]);
  const bake = o.staticFails ? [] : ['# The static step runs at bake without the configuration (GREENLIGHT_BAKE=1).', 'BAKE = os.environ.get("GREENLIGHT_BAKE") == "1"'];
  const need = (name: string, atBake: string) => (o.staticFails ? `os.environ["${name}"]` : `("${atBake}" if BAKE else os.environ["${name}"])`);
  file('lending/settings.py', [
    'import os',
    'from pathlib import Path',
    'import dj_database_url',
    'from dotenv import load_dotenv',
    'BASE_DIR = Path(__file__).resolve().parent.parent',
    'load_dotenv(BASE_DIR / ".env")',
    ...bake,
    `SECRET_KEY = ${need('DJANGO_SECRET_KEY', 'bake-only')}`,
    `DATABASES = {"default": dj_database_url.parse(${need('DATABASE_URL', 'sqlite:////tmp/bake.sqlite3')}, conn_max_age=0)}`,
    'if DATABASES["default"]["ENGINE"].endswith("postgresql"):',
    '    DATABASES["default"]["OPTIONS"] = {"connect_timeout": 3}',
    'DEBUG = False',
    'ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h]',
    'ip_file = os.environ.get("GREENLIGHT_IPV4_FILE", "/etc/aws/ipv4")',
    'if os.path.exists(ip_file):',
    '    ALLOWED_HOSTS.append(open(ip_file).read().strip())',
    'INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.staticfiles", "catalog"]',
    'MIDDLEWARE = [',
    `    ${o.noHostCheck ? '"lending.probe.Ready"' : '"greenlight_health.HealthCheckMiddleware"'},`,
    '    "django.middleware.security.SecurityMiddleware",',
    '    "django.middleware.common.CommonMiddleware",',
    ']',
    'ROOT_URLCONF = "lending.urls"',
    'TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]',
    'STATIC_URL = "/static/"',
    'STATIC_ROOT = BASE_DIR / "staticfiles"',
    'DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"',
    'USE_TZ = True',
    'LOGGING = {"version": 1, "disable_existing_loggers": False, "handlers": {"console": {"class": "logging.StreamHandler"}}, "root": {"handlers": ["console"], "level": "WARNING"}}',
  ]);
  if (o.noHostCheck) {
    // Answers before anything validates the Host: Django only checks it when something asks.
    file('lending/probe.py', [
      'from django.db import connection',
      'from django.http import JsonResponse',
      'class Ready:',
      '    def __init__(self, get_response):',
      '        self.get_response = get_response',
      '    def __call__(self, request):',
      '        if request.path != "/health/":',
      '            return self.get_response(request)',
      '        with connection.cursor() as cursor:',
      '            cursor.execute("SELECT 1")',
      '        return JsonResponse({"status": "ok"})',
    ]);
  }
  file('lending/urls.py', [
    'from django.urls import path',
    'from django.views.generic import RedirectView',
    'from catalog import views',
    'urlpatterns = [',
    '    path("", RedirectView.as_view(url="/catalog/", permanent=True)),',
    '    path("catalog/", views.index, name="index"),',
    ']',
  ]);
  file('catalog/__init__.py', ['']);
  file('catalog/static/catalog/site.css', ['body { font-family: sans-serif; }']);
  file('catalog/templates/catalog/index.html', ['<!doctype html><title>Lending v{{ version }}</title><h1>{{ books }} books</h1>']);
  file('catalog/migrations/__init__.py', ['']);
  file('catalog/migrations/0001_initial.py', [
    'from django.db import migrations, models',
    'class Migration(migrations.Migration):',
    '    initial = True',
    '    dependencies = []',
    '    operations = [migrations.CreateModel(name="Book", fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")), ("title", models.CharField(max_length=200))])]',
  ]);
  const fields = ['    title = models.CharField(max_length=200)'];
  if (o.version === 2) {
    fields.push('    isbn = models.CharField(max_length=13, null=True)');
    file('catalog/migrations/0002_book_isbn.py', [
      'from django.db import migrations, models',
      'class Migration(migrations.Migration):',
      '    dependencies = [("catalog", "0001_initial")]',
      '    operations = [migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=13, null=True))]',
    ]);
  }
  file('catalog/models.py', ['from django.db import models', 'class Book(models.Model):', ...fields]);
  file('catalog/views.py', [
    'from django.shortcuts import render',
    'from .models import Book',
    'def index(request):',
    `    return render(request, "${o.homeRaises ? 'catalog/home.html' : 'catalog/index.html'}", {"version": ${o.version}, "books": Book.objects.count()})`,
  ]);
  return dir;
}
