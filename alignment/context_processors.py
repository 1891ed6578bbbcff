from typing import Any

from django.http import HttpRequest

from alignment.models import Membership, Notification
from alignment.permissions import MATRIX


def seam(request: HttpRequest) -> dict[str, Any]:
    """Header data for pages inside an organization: unread count, switcher, permissions."""
    org = getattr(request, "org", None)
    membership = getattr(request, "membership", None)
    if org is None or membership is None:
        return {}

    def other_memberships() -> list[Membership]:
        # The user's memberships in every organization: readable through the membership
        # policy's user clause (tenant_context was entered with the user's id).
        return list(
            Membership.objects.for_user(membership.user_id)
            .filter(is_active=True)
            .select_related("organization")
            .order_by("organization__name")
        )

    def unread() -> int:
        return (
            Notification.objects.for_org(org)
            .filter(recipient=membership, read_at__isnull=True)
            .count()
        )

    return {
        "org": org,
        "membership": membership,
        "seam_perms": {perm.value for perm in MATRIX.get(membership.role, frozenset())},
        "switcher_memberships": other_memberships,
        "unread_notifications": unread,
    }
