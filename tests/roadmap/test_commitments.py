"""Commitments: who may ask, PM approval with exact wording, and slip notices exactly once."""

from __future__ import annotations

import datetime

import pytest

from alignment.errors import ApplicationError
from alignment.models import Notification
from alignment.tenancy import tenant_context
from integrations.models import WebhookDelivery, WebhookEvent
from roadmap import selectors_commitments, services_commitments
from roadmap.models import Commitment, CommitmentStatus, Delivery, Tier
from tests.roadmap.support_items import (
    account,
    approve,
    commit_item,
    edit,
    make_item,
    request,
    today,
    webhook_endpoint,
)

pytest_plugins = ["tests.roadmap.fixtures_items"]


def notes(org, kind, recipient=None):  # type: ignore[no-untyped-def]
    with tenant_context(org):
        rows = Notification.objects.filter(kind=kind)
        if recipient is not None:
            rows = rows.filter(recipient=recipient)
        return list(rows.order_by("pk"))


def reload(org, commitment):  # type: ignore[no-untyped-def]
    with tenant_context(org):
        return Commitment.objects.get(pk=commitment.pk)


# --- asking ----------------------------------------------------------------------------------


def test_a_csm_asks_for_an_account_they_own_and_the_owning_pm_hears_once(org_a, csm_a, pm_a):
    item = commit_item(org_a, pm_a)
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), item, include_quarter=True)
    assert commitment.status == CommitmentStatus.REQUESTED
    assert commitment.approved_wording == ""  # nothing quotable yet
    (note,) = notes(org_a, "commitment.requested")
    assert note.recipient_id == pm_a.pk and "Globex" in note.title


def test_a_csm_cannot_ask_for_another_csms_account(org_a, csm_a, csm2_a, pm_a):
    item = make_item(org_a, pm_a)
    theirs = account(org_a, csm2_a, "Umbrella")
    with pytest.raises(ApplicationError) as caught:
        request(org_a, csm_a, theirs, item)
    assert "account" in caught.value.field_errors
    assert request(org_a, csm2_a, theirs, item).requested_by == csm2_a


def test_vp_cs_may_ask_for_any_account(org_a, vp_a, csm_a, pm_a):
    item = make_item(org_a, pm_a)
    assert request(org_a, vp_a, account(org_a, csm_a, "Globex"), item).requested_by == vp_a


def test_only_a_committed_item_may_be_asked_about_with_a_quarter(org_a, csm_a, pm_a):
    item = make_item(org_a, pm_a, quarter="2027-Q2")
    with pytest.raises(ApplicationError) as caught:
        request(org_a, csm_a, account(org_a, csm_a, "Globex"), item, include_quarter=True)
    assert "include_quarter" in caught.value.field_errors


def test_a_second_pending_request_for_the_same_account_and_item_is_refused(org_a, csm_a, pm_a):
    item = make_item(org_a, pm_a)
    acct = account(org_a, csm_a, "Globex")
    request(org_a, csm_a, acct, item)
    with pytest.raises(ApplicationError):
        request(org_a, csm_a, acct, item)


def test_a_request_needs_context_and_a_plausible_conversation_date(org_a, csm_a, pm_a):
    item = make_item(org_a, pm_a)
    with tenant_context(org_a), pytest.raises(ApplicationError) as caught:
        services_commitments.commitment_request(
            org=org_a,
            actor=csm_a,
            account=account(org_a, csm_a, "Globex"),
            item=item,
            context="  ",
            conversation_date=today(org_a) + datetime.timedelta(days=400),
        )
    assert set(caught.value.field_errors) == {"context", "conversation_date"}


def test_nobody_may_promise_an_internal_item(org_a, csm_a, admin_a, pm_a):
    item = make_item(org_a, pm_a, visibility="internal")
    globex = account(org_a, csm_a, "Globex")
    with pytest.raises(ApplicationError) as as_csm:
        request(org_a, csm_a, globex, item)
    with pytest.raises(ApplicationError) as as_admin:
        request(org_a, admin_a, globex, item)
    assert as_csm.value.message == "That roadmap item does not exist."
    assert "never promised to customers" in as_admin.value.message


# --- deciding --------------------------------------------------------------------------------


def test_the_owning_pm_approves_with_exact_wording_and_the_csm_hears_once(org_a, csm_a, pm_a):
    item = commit_item(org_a, pm_a, quarter="2027-Q1")
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), item, include_quarter=True)
    approved = approve(org_a, pm_a, commitment, "The two-way sync is committed for Q1 2027.")
    assert approved.status == CommitmentStatus.APPROVED
    assert approved.approved_wording == "The two-way sync is committed for Q1 2027."
    assert approved.decided_by == pm_a
    assert (approved.tier_at_approval, approved.quarter_at_approval) == ("committed", "2027-Q1")
    (note,) = notes(org_a, "commitment.decided")
    assert note.recipient_id == csm_a.pk and "committed for Q1 2027" in note.body


def test_another_pm_gets_a_clear_refusal_and_the_head_of_product_may_decide(
    org_a, csm_a, pm_a, pm2_a, hop_a
):
    item = commit_item(org_a, pm_a)
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), item)
    with pytest.raises(ApplicationError) as caught:
        approve(org_a, pm2_a, commitment)
    assert caught.value.code == "permission_denied"
    assert "Pat PM" in caught.value.message
    assert reload(org_a, commitment).status == CommitmentStatus.REQUESTED
    assert approve(org_a, hop_a, commitment).status == CommitmentStatus.APPROVED


def test_approval_needs_wording(org_a, csm_a, pm_a):
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), make_item(org_a, pm_a))
    with pytest.raises(ApplicationError) as caught:
        approve(org_a, pm_a, commitment, "   ")
    assert "approved_wording" in caught.value.field_errors


def test_a_quarter_request_fails_at_approval_if_the_item_is_no_longer_committed(org_a, csm_a, pm_a):
    item = commit_item(org_a, pm_a)
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), item, include_quarter=True)
    edit(org_a, pm_a, item, tier=Tier.PLANNED)
    with pytest.raises(ApplicationError) as caught:
        approve(org_a, pm_a, commitment, "Committed for Q1.")
    assert "only a committed item may be promised with a quarter" in caught.value.message
    assert reload(org_a, commitment).status == CommitmentStatus.REQUESTED


def test_wording_that_names_a_quarter_is_refused_for_an_item_not_committed(org_a, csm_a, pm_a):
    item = make_item(org_a, pm_a, quarter="2027-Q3")
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), item)
    with pytest.raises(ApplicationError) as caught:
        approve(org_a, pm_a, commitment, "Planned, should land in Q3.")
    assert "approved_wording" in caught.value.field_errors
    assert approve(org_a, pm_a, commitment, "It is planned.").status == "approved"


def test_declining_needs_a_reason_that_reaches_the_csm(org_a, csm_a, pm_a):
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), make_item(org_a, pm_a))
    with tenant_context(org_a):
        with pytest.raises(ApplicationError):
            services_commitments.commitment_decline(
                org=org_a, actor=pm_a, commitment=commitment, reason=""
            )
        services_commitments.commitment_decline(
            org=org_a, actor=pm_a, commitment=commitment, reason="Too early to promise."
        )
    assert reload(org_a, commitment).status == CommitmentStatus.DECLINED
    (note,) = notes(org_a, "commitment.decided", csm_a)
    assert "Too early to promise." in note.body


def test_a_decided_request_cannot_be_decided_again(org_a, csm_a, pm_a):
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), make_item(org_a, pm_a))
    approve(org_a, pm_a, commitment)
    with pytest.raises(ApplicationError):
        approve(org_a, pm_a, commitment, "Something else.")
    assert len(notes(org_a, "commitment.decided")) == 1


def test_the_csm_withdraws_a_pending_request_but_another_csm_cannot(org_a, csm_a, csm2_a, pm_a):
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), make_item(org_a, pm_a))
    with tenant_context(org_a):
        with pytest.raises(ApplicationError):
            services_commitments.commitment_withdraw(org=org_a, actor=csm2_a, commitment=commitment)
        services_commitments.commitment_withdraw(org=org_a, actor=csm_a, commitment=commitment)
    assert reload(org_a, commitment).status == CommitmentStatus.WITHDRAWN


# --- slips, tier drops, cancellations --------------------------------------------------------


@pytest.fixture
def promised(org_a, csm_a, csm2_a, pm_a):  # type: ignore[no-untyped-def]
    """A committed item with approved promises: two accounts of Casey, one of Sam, and one
    still awaiting sign-off (which is not a promise and is never flagged)."""
    item = commit_item(org_a, pm_a, quarter="2027-Q1")
    rows = [
        approve(org_a, pm_a, request(org_a, csm_a, account(org_a, csm_a, name), item))
        for name in ("Globex", "Initech")
    ]
    rows.append(
        approve(org_a, pm_a, request(org_a, csm2_a, account(org_a, csm2_a, "Umbrella"), item))
    )
    pending = request(org_a, csm_a, account(org_a, csm_a, "Hooli"), item)
    return item, rows, pending


def test_a_slip_tells_each_csm_once_listing_their_accounts_and_flags_every_promise(
    org_a, csm_a, csm2_a, pm_a, promised
):
    endpoint = webhook_endpoint(org_a, WebhookEvent.COMMITMENT_AT_RISK)
    item, rows, pending = promised

    edit(org_a, pm_a, item, target_quarter="2027-Q2")

    casey = notes(org_a, "commitment.at_risk", csm_a)
    sam = notes(org_a, "commitment.at_risk", csm2_a)
    assert len(casey) == 1 and len(sam) == 1
    assert "Globex" in casey[0].title and "Initech" in casey[0].title
    assert "Q1 2027 to Q2 2027" in casey[0].body
    for row in rows:
        flagged = reload(org_a, row)
        assert flagged.at_risk_since is not None and "slipped" in flagged.at_risk_reason
    assert reload(org_a, pending).at_risk_since is None
    with tenant_context(org_a):
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3


def test_saving_again_without_a_new_change_sends_nothing_more(org_a, csm_a, pm_a, promised):
    item, _, _ = promised
    edit(org_a, pm_a, item, target_quarter="2027-Q2")
    edit(org_a, pm_a, item, target_quarter="2027-Q2")
    edit(org_a, pm_a, item, title="Renamed, same plan")
    assert len(notes(org_a, "commitment.at_risk", csm_a)) == 1


def test_a_second_slip_is_a_second_notice(org_a, csm_a, pm_a, promised):
    item, _, _ = promised
    edit(org_a, pm_a, item, target_quarter="2027-Q2")
    edit(org_a, pm_a, item, target_quarter="2027-Q4")
    assert len(notes(org_a, "commitment.at_risk", csm_a)) == 2


def test_a_slip_and_a_tier_drop_in_one_save_is_one_notice(org_a, csm_a, pm_a, promised):
    item, _, _ = promised
    edit(org_a, pm_a, item, target_quarter="2027-Q3", tier=Tier.PLANNED)
    (note,) = notes(org_a, "commitment.at_risk", csm_a)
    assert "from committed to planned" in note.body


def test_moving_a_committed_quarter_earlier_is_not_a_slip(org_a, csm_a, pm_a, promised):
    item, rows, _ = promised
    edit(org_a, pm_a, item, target_quarter="2026-Q4")
    assert notes(org_a, "commitment.at_risk") == []
    assert reload(org_a, rows[0]).at_risk_since is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"tier": Tier.PLANNED}, "from committed to planned"),
        ({"delivery_status": Delivery.CANCELLED}, "was cancelled"),
    ],
)
def test_a_tier_drop_or_a_cancellation_flags_the_promises(
    org_a, csm_a, pm_a, promised, changes, words
):
    item, rows, _ = promised
    edit(org_a, pm_a, item, **changes)
    (note,) = notes(org_a, "commitment.at_risk", csm_a)
    assert words in note.body
    assert words in reload(org_a, rows[0]).at_risk_reason


def test_recording_how_the_customer_was_told_clears_the_flag(org_a, csm_a, csm2_a, pm_a, promised):
    item, rows, _ = promised
    edit(org_a, pm_a, item, target_quarter="2027-Q2")
    with tenant_context(org_a):
        with pytest.raises(ApplicationError) as future:
            services_commitments.commitment_record_customer_informed(
                org=org_a,
                actor=csm_a,
                commitment=rows[0],
                informed_on=today(org_a) + datetime.timedelta(days=1),
                note="Called them.",
            )
        with pytest.raises(ApplicationError) as stranger:
            services_commitments.commitment_record_customer_informed(
                org=org_a, actor=csm2_a, commitment=rows[0], informed_on=today(org_a), note="x"
            )
        services_commitments.commitment_record_customer_informed(
            org=org_a,
            actor=csm_a,
            commitment=rows[0],
            informed_on=today(org_a),
            note="Called the sponsor; they accept Q2.",
        )
    assert "informed_on" in future.value.field_errors
    assert stranger.value.code == "permission_denied"
    cleared = reload(org_a, rows[0])
    assert cleared.at_risk_since is None and cleared.customer_informed_at == today(org_a)
    assert reload(org_a, rows[1]).at_risk_since is not None


def test_the_promises_list_puts_at_risk_first_and_filters_by_csm(org_a, csm_a, csm2_a, pm_a):
    item = commit_item(org_a, pm_a)
    other = commit_item(org_a, pm_a, "Audit log export")
    safe = approve(org_a, pm_a, request(org_a, csm_a, account(org_a, csm_a, "Safe Co"), other))
    risky = approve(org_a, pm_a, request(org_a, csm2_a, account(org_a, csm2_a, "Risky Co"), item))
    edit(org_a, pm_a, item, target_quarter="2027-Q3")
    with tenant_context(org_a):
        everyone = [c.pk for c in selectors_commitments.commitment_list(org=org_a)]
        mine = [c.pk for c in selectors_commitments.commitment_list(org=org_a, holder=csm_a.pk)]
    assert everyone == [risky.pk, safe.pk]
    assert mine == [safe.pk]
