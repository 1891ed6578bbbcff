"""Roadmap item and commitment pages in the cross-organization sweep."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from feedback import services as feedback_services
from roadmap import services_commitments, services_items
from roadmap.models import Visibility


def _item(o: Any) -> dict[str, Any]:
    return {"pk": o.extra["items_roadmap_item"].pk}


def _commitment(o: Any) -> dict[str, Any]:
    return {"pk": o.extra["items_commitment"].pk}


KWARGS_FROM = {
    "roadmap:item-detail": _item,
    "roadmap:item-edit": _item,
    "roadmap:item-sign-off": _item,
    "roadmap:item-themes": _item,
    "roadmap:item-theme-unlink": lambda o: {
        "pk": o.extra["items_roadmap_item"].pk,
        "theme_pk": o.extra["items_linked_theme"].pk,
    },
    "roadmap:commitment-detail": _commitment,
    "roadmap:commitment-approve": _commitment,
    "roadmap:commitment-decline": _commitment,
    "roadmap:commitment-withdraw": _commitment,
    "roadmap:commitment-informed": _commitment,
}


def populate(o: Any) -> dict[str, Any]:
    """A planned item with a linked theme of its own and a pending commitment on it."""
    item = services_items.roadmap_item_create(
        org=o.org,
        actor=o.admin,
        data=services_items.ItemData(
            title="Isolation roadmap item",
            pm=None,
            tier="planned",
            target_quarter="2027-Q1",
            dev_owner="Isolation squad",
            visibility=Visibility.PUBLIC,
        ),
    )
    theme = feedback_services.theme_create(
        org=o.org,
        actor=o.admin,
        data=feedback_services.NewTheme(
            title="Isolation linked theme", status="on_roadmap", roadmap_item=item
        ),
    )
    commitment = services_commitments.commitment_request(
        org=o.org,
        actor=o.admin,
        account=o.account,
        item=item,
        context="Isolation sweep",
        conversation_date=timezone.localdate(timezone=o.org.tzinfo),
    )
    return {
        "items_roadmap_item": item,
        "items_linked_theme": theme,
        "items_commitment": commitment,
    }
