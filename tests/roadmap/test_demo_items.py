"""The demo roadmap seeds on top of seed_demo's organizations, obeys the rules, and a second
run changes nothing."""

from __future__ import annotations

import io
import random

from django.core.management import call_command

from alignment.management.commands.seed_demo import PEOPLE
from alignment.models import Membership, Notification, Organization
from alignment.tenancy import tenant_context
from roadmap import demo_items
from roadmap.models import Commitment, CommitmentStatus, RoadmapItem, Tier


def _seed(org: Organization) -> None:
    with tenant_context(org):
        members = {
            local: Membership.objects.get(user__email=f"{local}@acme.example")
            for local, _role, _name in PEOPLE
        }
        demo_items.seed(org=org, members=members, rng=random.Random(org.slug))


def test_the_demo_roadmap_has_every_tier_and_promises_in_every_state_and_is_idempotent(db):
    call_command("seed_demo", stdout=io.StringIO())
    org = Organization.objects.get(slug="acme")
    _seed(org)
    with tenant_context(org):
        items = {i.title: i for i in RoadmapItem.objects.all()}
        commitments = list(Commitment.objects.all())
        counts = (len(items), len(commitments), Notification.objects.count())
        linked = items[demo_items.MARKER].themes.exists()
    assert {i.tier for i in items.values()} == {Tier.COMMITTED, Tier.PLANNED, Tier.EXPLORING}
    assert all(i.signed_off_at for i in items.values() if i.tier == Tier.COMMITTED)
    assert linked
    assert any(c.at_risk_since for c in commitments)
    assert {c.status for c in commitments} == {
        CommitmentStatus.APPROVED,
        CommitmentStatus.REQUESTED,
    }

    _seed(org)

    with tenant_context(org):
        again = (
            RoadmapItem.objects.count(),
            Commitment.objects.count(),
            Notification.objects.count(),
        )
    assert again == counts
