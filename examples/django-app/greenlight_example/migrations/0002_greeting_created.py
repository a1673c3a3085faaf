from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("greenlight_example", "0001_initial")]
    operations = [
        # Expand-only: a nullable column, so the previous release keeps working while both serve.
        migrations.AddField(model_name="greeting", name="created", field=models.DateTimeField(null=True, blank=True)),
    ]
