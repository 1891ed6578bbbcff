"""Database sessions that record their user, so a deactivated member's sessions can end."""

from django.contrib.sessions.backends.db import SessionStore as DBStore


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):  # type: ignore[no-untyped-def]
        from alignment.models import UserSession

        return UserSession

    def create_model_instance(self, data):  # type: ignore[no-untyped-def]
        instance = super().create_model_instance(data)
        user_id = data.get("_auth_user_id")
        instance.user_id = int(user_id) if user_id else None
        return instance
