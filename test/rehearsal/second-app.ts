// A second Django project, written by the tests themselves so that nothing of examples/django-app is
// assumed: project `shopfront`, WSGI callable `shopfront.server:app`, settings `shopfront.conf`,
// health path /ops/ready/, required SHOP_SECRET. Version 2 adds a nullable column (an expand
// migration) and says so on its home page. Each trap builds it the way docs/health-contract.md says breaks it.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ShopfrontOptions {
  readonly version: 1 | 2;
  /** ALLOWED_HOSTS ignores the instance IP file. */
  readonly ignoresInstanceIp?: boolean;
  /** SHOP_SECRET has a default, so the app starts without its configuration. */
  readonly startsWithoutConfig?: boolean;
  /** PostgreSQL connections have no connect timeout. */
  readonly noConnectTimeout?: boolean;
  /** The manifest's migrate command does not migrate. */
  readonly migrateDoesNothing?: boolean;
  /** A model field without its migration. */
  readonly modelWithoutMigration?: boolean;
  /** The manifest's health path lacks the slash Django's URL has. */
  readonly healthPathWithoutSlash?: boolean;
  /** SECURE_SSL_REDIRECT, with the security middleware before the health check. */
  readonly sslRedirect?: boolean;
  /** SQLite whatever DATABASE_URL names: never PostgreSQL. */
  readonly sqliteOnly?: boolean;
}

export const SHOPFRONT_HEALTH_PATH = '/ops/ready/';

export function writeShopfront(dir: string, o: ShopfrontOptions): string {
  const file = (name: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text.replace(/^\n/, ''));
  };
  const py = (lines: string[]) => `${lines.join('\n')}\n`;
  file('manage.py', py([
    'import os, sys',
    'if __name__ == "__main__":',
    '    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopfront.conf")',
    '    from django.core.management import execute_from_command_line',
    '    execute_from_command_line(sys.argv)',
  ]));
  file('pyproject.toml', py([
    '[project]',
    'name = "shopfront"',
    'version = "' + o.version + '.0"',
    '',
    '[tool.greenlight]',
    'wsgi = "shopfront.server:app"',
    'settings = "shopfront.conf"',
    `health-path = "${o.healthPathWithoutSlash ? SHOPFRONT_HEALTH_PATH.replace(/\/$/, '') : SHOPFRONT_HEALTH_PATH}"`,
    'required-env = ["SHOP_SECRET", "DATABASE_URL"]',
    `migrate = ${o.migrateDoesNothing ? '["manage.py", "check"]' : '["manage.py", "migrate", "--no-input"]'}`,
  ]));
  file('shopfront/__init__.py', '');
  file('shopfront/server.py', py(['import os', 'from django.core.wsgi import get_wsgi_application', 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopfront.conf")', 'app = get_wsgi_application()']));
  const security = '"django.middleware.security.SecurityMiddleware"';
  file('shopfront/conf.py', py([
    'import os',
    'from urllib.parse import urlsplit',
    'from django.core.exceptions import ImproperlyConfigured',
    'def need(name):',
    '    value = os.environ.get(name)',
    '    if not value:',
    '        raise ImproperlyConfigured("%s is required" % name)',
    '    return value',
    o.startsWithoutConfig ? 'SECRET_KEY = os.environ.get("SHOP_SECRET", "development-only")' : 'SECRET_KEY = need("SHOP_SECRET")',
    'url = urlsplit(need("DATABASE_URL"))',
    `if ${o.sqliteOnly ? 'True' : 'url.scheme == "sqlite"'}:`,
    '    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": url.path}}',
    'else:',
    '    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": url.path.lstrip("/"), "USER": url.username or "",',
    '                             "PASSWORD": url.password or "", "HOST": url.hostname, "PORT": str(url.port or ""),',
    `                             "OPTIONS": ${o.noConnectTimeout ? '{}' : '{"connect_timeout": 2}'}}}`,
    'ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h]',
    ...(o.ignoresInstanceIp
      ? []
      : ['ip_file = os.environ.get("GREENLIGHT_IPV4_FILE", "/etc/aws/ipv4")', 'if os.path.exists(ip_file):', '    ALLOWED_HOSTS.append(open(ip_file).read().strip())']),
    'RELEASE = os.environ.get("GREENLIGHT_RELEASE", "?")',
    'INSTALLED_APPS = ["django.contrib.contenttypes", "catalog"]',
    `MIDDLEWARE = [${o.sslRedirect ? `${security}, ` : ''}"shopfront.probes.Readiness", ${o.sslRedirect ? '' : `${security}, `}"django.middleware.common.CommonMiddleware"]`,
    ...(o.sslRedirect ? ['SECURE_SSL_REDIRECT = True'] : []),
    'ROOT_URLCONF = "shopfront.urls"',
    'DEFAULT_AUTO_FIELD = "django.db.models.AutoField"',
    'USE_TZ = True',
  ]));
  file('shopfront/probes.py', py([
    'from django.db import connection',
    'from django.db.migrations.executor import MigrationExecutor',
    'from django.http import JsonResponse',
    'class Readiness:',
    '    def __init__(self, get_response):',
    '        self.get_response = get_response',
    '    def __call__(self, request):',
    `        if request.path != "${SHOPFRONT_HEALTH_PATH}":`,
    '            return self.get_response(request)',
    '        request.get_host()',
    '        try:',
    '            with connection.cursor() as cursor:',
    '                cursor.execute("SELECT 1")',
    '            executor = MigrationExecutor(connection)',
    '            if executor.migration_plan(executor.loader.graph.leaf_nodes()):',
    '                return JsonResponse({"ready": False, "why": "migrations"}, status=503)',
    '        except Exception as error:',
    '            return JsonResponse({"ready": False, "why": type(error).__name__}, status=503)',
    '        return JsonResponse({"ready": True})',
  ]));
  file('shopfront/urls.py', py([
    'from django.http import HttpResponse',
    'from django.urls import path',
    'from catalog.views import home',
    `urlpatterns = [path("", home), path("${SHOPFRONT_HEALTH_PATH.slice(1)}", lambda request: HttpResponse("ready"))]`,
  ]));
  file('catalog/__init__.py', '');
  file('catalog/migrations/__init__.py', '');
  file('catalog/migrations/0001_initial.py', py([
    'from django.db import migrations, models',
    'class Migration(migrations.Migration):',
    '    initial = True',
    '    dependencies = []',
    '    operations = [migrations.CreateModel(name="Product", fields=[("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")), ("name", models.CharField(max_length=80))])]',
  ]));
  const fields = ['    name = models.CharField(max_length=80)'];
  if (o.version === 2) {
    fields.push('    price = models.IntegerField(null=True)');
    file('catalog/migrations/0002_product_price.py', py([
      'from django.db import migrations, models',
      'class Migration(migrations.Migration):',
      '    dependencies = [("catalog", "0001_initial")]',
      '    operations = [migrations.AddField(model_name="product", name="price", field=models.IntegerField(null=True))]',
    ]));
  }
  if (o.modelWithoutMigration) fields.push('    sku = models.CharField(max_length=20, default="")');
  file('catalog/models.py', py(['from django.db import models', 'class Product(models.Model):', ...fields]));
  file('catalog/views.py', py([
    'from django.conf import settings',
    'from django.http import HttpResponse',
    'from .models import Product',
    'def home(request):',
    `    return HttpResponse("shopfront v${o.version} (release %s): %d products" % (settings.RELEASE, Product.objects.count()))`,
  ]));
  return dir;
}
