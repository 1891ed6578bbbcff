from django.apps import AppConfig


class CadencesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cadences"
