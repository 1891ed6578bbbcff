from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AlignmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alignment"
    verbose_name = "Seam core"

    def ready(self) -> None:
        from alignment import rls

        # Database plumbing, not a domain flow: after every migrate, make sure each tenant
        # table has its row-level security policy, same-organization foreign keys, and the
        # application role's grants.
        post_migrate.connect(rls.sync_database_security, dispatch_uid="seam-rls-sync")
