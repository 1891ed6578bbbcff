"""Reads of the VoC pipeline. Every selector takes the organization."""

from __future__ import annotations

from django.db.models import F, QuerySet

from alignment.models import Membership, Organization
from feedback.models import Feedback


def feedback_list_for_csm(
    *, org: Organization, csm: Membership, loop: str = ""
) -> QuerySet[Feedback]:
    """Every signal this CSM raised, newest first, with what the page shows joined in."""
    queryset = (
        Feedback.objects.for_org(org)
        .filter(logged_by=csm, archived_at__isnull=True)
        .select_related("account", "theme", "product_area", "category")
        .order_by("-created_at", "-id")
    )
    if loop == "open":
        # Triaged, and the customer has not been told the current status.
        queryset = queryset.filter(theme__isnull=False).exclude(
            customer_told_status=F("theme__status")
        )
    return queryset
