"""Releases and beta programs in the cross-organization sweep."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from roadmap import services_betas, services_releases
from roadmap.models import Delivery, RoadmapItem, SelectionReason, Visibility

KWARGS_FROM = {
    "roadmap:release-detail": lambda o: {"pk": o.extra["release"].pk},
    "roadmap:release-edit": lambda o: {"pk": o.extra["release"].pk},
    "roadmap:release-announce": lambda o: {"pk": o.extra["release"].pk},
    "roadmap:release-ship": lambda o: {"pk": o.extra["release"].pk},
    "roadmap:beta-detail": lambda o: {"pk": o.extra["beta"].pk},
    "roadmap:beta-participant-add": lambda o: {"pk": o.extra["beta"].pk},
    "roadmap:beta-participant-remove": lambda o: {
        "pk": o.extra["beta"].pk,
        "participant_pk": o.extra["beta_participant"].pk,
    },
    "roadmap:beta-feedback-tag": lambda o: {"pk": o.extra["beta"].pk},
    "roadmap:beta-feedback-untag": lambda o: {
        "pk": o.extra["beta"].pk,
        "feedback_pk": o.feedback.pk,
    },
    "roadmap:beta-close": lambda o: {"pk": o.extra["beta"].pk},
    "roadmap:beta-mark-ga": lambda o: {"pk": o.extra["beta"].pk},
}


def populate(o: Any) -> dict[str, Any]:
    item = RoadmapItem.objects.for_org(o.org).create(
        organization=o.org,
        title=f"{o.org.name} scheduled exports",
        visibility=Visibility.PUBLIC,
        delivery_status=Delivery.BETA,
    )
    release = services_releases.release_create(
        org=o.org,
        actor=o.admin,
        data=services_releases.ReleaseData(
            name=f"{o.org.name} spring release",
            release_date=timezone.localdate() + datetime.timedelta(days=30),
            messaging="Exports on a schedule.",
            talking_points="Daily or weekly",
            do_not_say="No real-time promises.",
            items=[item],
        ),
    )
    beta = services_betas.beta_create(
        org=o.org,
        actor=o.admin,
        data=services_betas.BetaData(
            item=item, name=f"{o.org.name} exports beta", cs_owner=o.admin, pm=o.admin
        ),
    )
    participant = services_betas.beta_participant_add(
        org=o.org, actor=o.admin, beta=beta, account=o.account, reason=SelectionReason.NEED
    )
    services_betas.beta_feedback_tag(org=o.org, actor=o.admin, beta=beta, feedback=o.feedback)
    return {"release": release, "beta": beta, "beta_participant": participant}
