from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """Trigram similarity for "similar themes and feedback" while a CSM types (PostgreSQL
    only; pg_trgm is a trusted extension, so the database owner may create it)."""

    dependencies = [("feedback", "0002_initial")]

    operations = [TrigramExtension()]
