"""Escalation pages in the cross-organization sweep."""

from __future__ import annotations

from typing import Any

from roadmap.services_escalations import escalation_raise


def _escalation(o: Any) -> dict[str, Any]:
    return {"pk": o.extra["escalation"].pk}


KWARGS_FROM = {
    "roadmap:escalation-detail": _escalation,
    "roadmap:escalation-override": _escalation,
    "roadmap:escalation-status": _escalation,
    "roadmap:escalation-recompute": _escalation,
    "roadmap:escalation-account-add": _escalation,
    "roadmap:escalation-account-remove": lambda o: {
        "pk": o.extra["escalation"].pk,
        "account_pk": o.account.pk,
    },
}


def populate(o: Any) -> dict[str, Any]:
    escalation = escalation_raise(
        org=o.org,
        actor=o.admin,
        title=f"{o.org.name} exports time out",
        accounts=[o.account],
        product_area=o.product_area,
        customer_cited=True,
    )
    return {"escalation": escalation}
