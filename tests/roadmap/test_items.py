"""Roadmap items: tier rules enforced, sign-off, history, linked demand, what CS may say."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.http import Http404

from alignment.errors import ApplicationError
from alignment.models import AuditEvent, LifecycleStage, Notification
from alignment.tenancy import tenant_context
from feedback.models import ThemeStatus
from integrations.models import WebhookDelivery, WebhookEvent
from roadmap import selectors_items, services_items, wording
from roadmap.models import Delivery, RoadmapItem, RoadmapItemEvent, Tier, Visibility
from tests.roadmap.support_items import (
    account,
    commit_item,
    edit,
    link,
    make_item,
    theme_with_feedback,
    webhook_endpoint,
)

pytest_plugins = ["tests.roadmap.fixtures_items"]

# --- wording (pure) --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2027-q1", " 2027-Q4 "])
def test_a_quarter_is_normalised_to_year_dash_q(value):
    assert wording.quarter_normalize(value) in {"2027-Q1", "2027-Q4"}


@pytest.mark.parametrize("value", ["Q1 2027", "2027-Q5", "2027Q1", "next quarter", "1999-Q1"])
def test_a_quarter_not_written_as_yyyy_qn_is_refused(value):
    with pytest.raises(wording.QuarterError):
        wording.quarter_normalize(value)


def test_later_quarters_compare_by_year_then_quarter():
    assert wording.quarter_is_later("2027-Q1", "2026-Q4")
    assert not wording.quarter_is_later("2026-Q4", "2027-Q1")
    assert not wording.quarter_is_later("2027-Q1", "2027-Q1")


def test_only_the_committed_sentence_names_the_quarter():
    committed = wording.tier_sentence(Tier.COMMITTED, "2027-Q2")
    planned = wording.tier_sentence(Tier.PLANNED, "2027-Q2")
    exploring = wording.tier_sentence(Tier.EXPLORING, "2027-Q2")
    assert "Q2 2027" in committed
    assert "Q2" not in planned and "2027" not in planned
    assert "Q2" not in exploring and "2027" not in exploring


def test_a_cancelled_item_tells_csms_not_to_plan_around_it_whatever_its_tier():
    sentence = wording.csm_sentence(Tier.COMMITTED, "2027-Q2", Delivery.CANCELLED)
    assert "stopped work" in sentence and "Q2" not in sentence


# --- tier rules ------------------------------------------------------------------------------


def test_an_item_cannot_start_committed_and_each_missing_requirement_is_named(org_a, pm_a):
    with pytest.raises(ApplicationError) as caught:
        make_item(org_a, pm_a, tier=Tier.COMMITTED)
    errors = caught.value.field_errors
    assert set(errors) == {"dev_owner", "target_quarter", "tier"}
    assert "sign-off" in errors["tier"][0]
    with tenant_context(org_a):
        assert not RoadmapItem.objects.exists()


def test_committing_by_edit_without_sign_off_names_only_the_sign_off(org_a, pm_a):
    item = make_item(org_a, pm_a, quarter="2027-Q1", dev_owner="Platform")
    with pytest.raises(ApplicationError) as caught:
        edit(org_a, pm_a, item, tier=Tier.COMMITTED)
    assert set(caught.value.field_errors) == {"tier"}


def test_a_badly_written_quarter_is_a_field_error(org_a, pm_a):
    with pytest.raises(ApplicationError) as caught:
        make_item(org_a, pm_a, quarter="Q3 next year")
    assert "YYYY-Qn" in caught.value.field_errors["target_quarter"][0]


def test_sign_off_needs_a_development_owner_and_a_quarter(org_a, pm_a):
    item = make_item(org_a, pm_a)
    with tenant_context(org_a), pytest.raises(ApplicationError) as caught:
        services_items.roadmap_item_sign_off(org=org_a, actor=pm_a, item=item, note="Go.")
    assert set(caught.value.field_errors) == {"dev_owner", "target_quarter"}


def test_only_the_owning_pm_or_a_head_of_product_signs_off(org_a, pm_a, pm2_a, hop_a):
    item = make_item(org_a, pm_a, quarter="2027-Q1", dev_owner="Platform")
    with tenant_context(org_a), pytest.raises(ApplicationError) as caught:
        services_items.roadmap_item_sign_off(org=org_a, actor=pm2_a, item=item, note="Go.")
    assert caught.value.code == "permission_denied"
    with tenant_context(org_a):
        signed = services_items.roadmap_item_sign_off(org=org_a, actor=hop_a, item=item, note="Go.")
    assert signed.tier == Tier.COMMITTED and signed.signed_off_by == hop_a


def test_sign_off_records_who_when_and_what_and_commits_the_item(org_a, pm_a):
    endpoint = webhook_endpoint(org_a, WebhookEvent.ROADMAP_ITEM_CHANGED)
    item = commit_item(org_a, pm_a, quarter="2027-Q1")
    assert item.tier == Tier.COMMITTED
    assert item.signed_off_by == pm_a and item.signed_off_at is not None
    assert item.signoff_note == "Scoped and staffed for the quarter."
    with tenant_context(org_a):
        kinds = list(
            RoadmapItemEvent.objects.filter(item=item).order_by("pk").values_list("kind", flat=True)
        )
        deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint))
        audit = AuditEvent.objects.filter(action="roadmap_item.sign_off").get()
    assert kinds == ["created", "signed_off", "tier_changed"]
    assert [d.payload["data"]["tier"] for d in deliveries] == ["committed"]
    assert audit.changes["tier"] == ["planned", "committed"]


def test_leaving_committed_spends_the_sign_off(org_a, pm_a):
    item = commit_item(org_a, pm_a)
    item = edit(org_a, pm_a, item, tier=Tier.PLANNED)
    assert item.signed_off_at is None and item.signed_off_by is None
    with pytest.raises(ApplicationError):
        edit(org_a, pm_a, item, tier=Tier.COMMITTED)


def test_a_committed_item_cannot_lose_its_quarter_or_owner(org_a, pm_a):
    item = commit_item(org_a, pm_a)
    with pytest.raises(ApplicationError) as caught:
        edit(org_a, pm_a, item, target_quarter="", dev_owner="")
    assert set(caught.value.field_errors) == {"dev_owner", "target_quarter"}


def test_every_change_writes_history_audit_and_a_webhook_for_tier_or_quarter(org_a, pm_a):
    endpoint = webhook_endpoint(org_a, WebhookEvent.ROADMAP_ITEM_CHANGED)
    item = make_item(org_a, pm_a, quarter="2027-Q1")
    edit(org_a, pm_a, item, target_quarter="2027-Q2", delivery_status=Delivery.IN_DEVELOPMENT)
    edit(org_a, pm_a, item, title="Salesforce sync, both ways")
    with tenant_context(org_a):
        kinds = list(
            RoadmapItemEvent.objects.filter(item=item).order_by("pk").values_list("kind", flat=True)
        )
        audits = AuditEvent.objects.filter(action="roadmap_item.update").count()
        webhooks = WebhookDelivery.objects.filter(endpoint=endpoint).count()
    assert kinds == ["created", "quarter_changed", "delivery_changed", "edited"]
    assert audits == 2
    assert webhooks == 1  # the title edit changed neither tier nor quarter


def test_saving_an_unchanged_item_writes_nothing(org_a, pm_a):
    item = make_item(org_a, pm_a)
    edit(org_a, pm_a, item)
    with tenant_context(org_a):
        assert RoadmapItemEvent.objects.filter(item=item).count() == 1
        assert not AuditEvent.objects.filter(action="roadmap_item.update").exists()


def test_a_csm_cannot_create_items(org_a, csm_a):
    with pytest.raises(ApplicationError) as caught:
        make_item(org_a, csm_a)
    assert caught.value.code == "permission_denied"


# --- who sees what ---------------------------------------------------------------------------


def test_csms_never_see_internal_items_or_planned_quarters(org_a, pm_a):
    planned = make_item(org_a, pm_a, "Planned thing", quarter="2027-Q3")
    hidden = make_item(org_a, pm_a, "Secret thing", visibility=Visibility.INTERNAL)
    committed = commit_item(org_a, pm_a, "Committed thing", quarter="2027-Q1")
    with tenant_context(org_a):
        columns = selectors_items.roadmap_board(org=org_a, internal=False)
        shown = {i.title: i for c in columns for g in c.groups for i in g.items}
        with pytest.raises(Http404):
            selectors_items.roadmap_item_get(org=org_a, pk=hidden.pk, internal=False)
        as_pm = selectors_items.roadmap_item_get(org=org_a, pk=planned.pk, internal=True)
    assert set(shown) == {"Planned thing", "Committed thing"}
    assert shown["Planned thing"].quarter_shown == ""
    assert "2027" not in shown["Planned thing"].csm_sentence
    assert shown["Committed thing"].quarter_shown == "2027-Q1"
    assert "Q1 2027" in shown["Committed thing"].csm_sentence
    assert as_pm.quarter_shown == "2027-Q3"
    assert committed.pk in {i.pk for c in columns for g in c.groups for i in g.items}


def test_exploring_items_carry_the_renewal_warning(org_a, pm_a):
    make_item(org_a, pm_a, "Idea", tier=Tier.EXPLORING)
    with tenant_context(org_a):
        columns = selectors_items.roadmap_board(org=org_a, internal=False)
    (item,) = [i for c in columns for g in c.groups for i in g.items]
    assert "not a retention lever" in item.exploring_warning
    assert "renewal" in item.exploring_warning


# --- linked demand ---------------------------------------------------------------------------


def test_linked_demand_counts_each_account_once_across_themes(org_a, pm_a, csm_a):
    big = account(org_a, csm_a, "Globex", "300000")
    small = account(org_a, csm_a, "Initech", "40000", lifecycle_stage=LifecycleStage.AT_RISK)
    item = make_item(org_a, pm_a)
    first = theme_with_feedback(org_a, pm_a, "Sync deals", (csm_a, big), (csm_a, small))
    second = theme_with_feedback(org_a, pm_a, "Sync contacts", (csm_a, big), (csm_a, big))
    link(org_a, pm_a, item, first)
    link(org_a, pm_a, item, second)
    with tenant_context(org_a):
        shown = selectors_items.roadmap_item_get(org=org_a, pk=item.pk, internal=True)
    # Globex once at $300K, Initech at risk x2: $380K; never Globex twice.
    assert shown.linked_arr == Decimal("380000.00")
    assert shown.linked_accounts == 2
    assert shown.linked_feedback == 4
    assert shown.linked_impact == Decimal("380000.00") + org_a.impact_per_account_weight * 2


def test_linking_a_theme_puts_it_on_the_roadmap_and_tells_its_csms(org_a, pm_a, csm_a):
    item = make_item(org_a, pm_a)
    theme = theme_with_feedback(org_a, pm_a, "Sync", (csm_a, account(org_a, csm_a, "Globex")))
    linked = link(org_a, pm_a, item, theme)
    assert linked.status == ThemeStatus.ON_ROADMAP and linked.roadmap_item_id == item.pk
    with tenant_context(org_a):
        assert Notification.objects.filter(recipient=csm_a, kind="theme.status").count() == 1
        assert RoadmapItemEvent.objects.filter(item=item, kind="themes_linked").exists()
        unlinked = services_items.roadmap_item_unlink_theme(
            org=org_a, actor=pm_a, item=item, theme=linked
        )
    assert unlinked.status == ThemeStatus.UNDER_REVIEW and unlinked.roadmap_item_id is None


def test_a_theme_of_another_organization_cannot_be_linked(org_a, org_b, pm_a, admin_b):
    item = make_item(org_a, pm_a)
    foreign = theme_with_feedback(org_b, admin_b, "Theirs")
    with pytest.raises(ApplicationError):
        link(org_a, pm_a, item, foreign)
