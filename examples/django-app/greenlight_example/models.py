from django.db import models


class Greeting(models.Model):
    text = models.CharField(max_length=200)
    # Added by migration 0002; the tests roll it back to show /health/ failing on an unapplied migration.
    created = models.DateTimeField(null=True, blank=True)
