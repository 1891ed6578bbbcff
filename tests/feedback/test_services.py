import datetime
from decimal import Decimal

import pytest
from django.core import mail

from alignment.errors import ApplicationError
from alignment.models import Notification, Role
from alignment.tenancy import tenant_context
from feedback import services
from feedback.models import Feedback, Theme, ThemeEvent, ThemeStatus
from tests.factories import AccountFactory


@pytest.fixture
def csm2_a(org_a, make_member):
    return make_member(org_a, Role.CSM, user__full_name="Second CSM")


def log(org, csm, account, text="We need a Salesforce sync", **kw):
    with tenant_context(org):
        return services.feedback_log(org=org, actor=csm, account=account, verbatim=text, **kw)


def test_logging_feedback_starts_a_business_day_clock_and_scores_it(org_a, csm_a):
    account = AccountFactory(csm=csm_a, arr=Decimal("120000"))
    logged = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)  # Wed 10:00 New York
    feedback = log(org_a, csm_a, account, logged_at=logged)
    assert feedback.due_at == datetime.datetime(2026, 3, 11, 14, 0, tzinfo=datetime.UTC)
    assert feedback.remind_at == datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC)
    assert feedback.status == "new"
    assert feedback.impact_score == Decimal("125000.00")


def test_blank_verbatim_is_refused_with_a_field_error(org_a, csm_a):
    account = AccountFactory(csm=csm_a)
    with pytest.raises(ApplicationError) as error:
        log(org_a, csm_a, account, text="   ")
    assert "verbatim" in error.value.field_errors


def test_an_account_of_another_organization_is_refused(org_a, csm_a, org_b):
    other = AccountFactory(organization=org_b)
    with pytest.raises(ApplicationError):
        log(org_a, csm_a, other)


def test_triage_into_a_new_theme_acknowledges_the_feedback(org_a, csm_a, pm_a):
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a))
    with tenant_context(org_a):
        services.feedback_triage(
            org=org_a,
            actor=pm_a,
            feedback=feedback,
            new_theme=services.NewTheme(title="Salesforce sync"),
        )
        feedback.refresh_from_db()
        assert feedback.triaged_at is not None and feedback.triaged_by == pm_a
        assert feedback.status == ThemeStatus.UNDER_REVIEW
        assert feedback.theme.feedback_count == 1


def test_not_planned_requires_a_reason(org_a, pm_a):
    with tenant_context(org_a), pytest.raises(ApplicationError) as error:
        services.theme_create(
            org=org_a, actor=pm_a, data=services.NewTheme(title="X", status=ThemeStatus.NOT_PLANNED)
        )
    assert "not_planned_reason" in error.value.field_errors


def test_one_300k_theme_outranks_a_theme_of_five_40k_accounts(org_a, csm_a, pm_a):
    with tenant_context(org_a):
        big = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="Big"))
        many = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="Many"))
    log(org_a, csm_a, AccountFactory(csm=csm_a, arr=Decimal("300000")), theme=big)
    for _ in range(5):
        log(org_a, csm_a, AccountFactory(csm=csm_a, arr=Decimal("40000")), theme=many)
    with tenant_context(org_a):
        ordered = list(
            Theme.objects.order_by("-impact_score").values_list("title", "account_count")
        )
    assert ordered == [("Big", 1), ("Many", 5)]


def test_two_requests_from_one_account_count_its_arr_once(org_a, csm_a, pm_a):
    account = AccountFactory(csm=csm_a, arr=Decimal("100000"))
    with tenant_context(org_a):
        theme = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="T"))
    log(org_a, csm_a, account, theme=theme)
    log(org_a, csm_a, account, text="again", theme=theme)
    with tenant_context(org_a):
        theme.refresh_from_db()
    assert (theme.arr_at_risk, theme.account_count, theme.feedback_count) == (
        Decimal("100000.00"),
        1,
        2,
    )


def test_status_change_notifies_each_csm_once_with_their_accounts_and_wording(
    org_a, csm_a, csm2_a, pm_a, django_capture_on_commit_callbacks
):
    with tenant_context(org_a):
        theme = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="SSO"))
    log(org_a, csm_a, AccountFactory(csm=csm_a, name="Globex"), theme=theme)
    log(org_a, csm_a, AccountFactory(csm=csm_a, name="Initech"), theme=theme)
    log(org_a, csm2_a, AccountFactory(csm=csm2_a, name="Umbrella"), theme=theme)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org_a):
        services.theme_set_status(
            org=org_a,
            actor=pm_a,
            theme=theme,
            status=ThemeStatus.NOT_PLANNED,
            reason="Security review blocks it this year.",
        )
    with tenant_context(org_a):
        notes = {n.recipient_id: n for n in Notification.objects.filter(kind="theme.status")}
    assert set(notes) == {csm_a.pk, csm2_a.pk}
    assert "Globex, Initech" in notes[csm_a.pk].body
    assert "Security review blocks it this year." in notes[csm_a.pk].body
    assert len([m for m in mail.outbox if "SSO" in m.subject]) == 2


def test_setting_the_same_status_again_notifies_nobody(org_a, csm_a, pm_a):
    with tenant_context(org_a):
        theme = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="SSO"))
    log(org_a, csm_a, AccountFactory(csm=csm_a), theme=theme)
    with tenant_context(org_a):
        services.theme_set_status(
            org=org_a, actor=pm_a, theme=theme, status=ThemeStatus.UNDER_REVIEW
        )
        assert not Notification.objects.filter(kind="theme.status").exists()


def test_merge_moves_every_feedback_and_keeps_history(org_a, csm_a, pm_a):
    with tenant_context(org_a):
        a = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="SF sync"))
        b = services.theme_create(
            org=org_a, actor=pm_a, data=services.NewTheme(title="Salesforce integration")
        )
    log(org_a, csm_a, AccountFactory(csm=csm_a, arr=Decimal("10000")), theme=a)
    log(org_a, csm_a, AccountFactory(csm=csm_a, arr=Decimal("20000")), theme=b)
    with tenant_context(org_a):
        services.theme_merge(org=org_a, actor=pm_a, source=a, target=b)
        a.refresh_from_db()
        b.refresh_from_db()
        assert Feedback.objects.filter(theme=b).count() == 2
        assert a.status == ThemeStatus.ARCHIVED and a.merged_into == b
        assert b.feedback_count == 2 and b.arr_at_risk == Decimal("30000.00")
        assert ThemeEvent.objects.filter(theme=a, kind="merged_into").exists()
        assert ThemeEvent.objects.filter(theme=b, kind="merged_in").exists()


def test_detached_feedback_is_new_again(org_a, csm_a, pm_a):
    with tenant_context(org_a):
        theme = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="T"))
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), theme=theme)
    with tenant_context(org_a):
        services.feedback_detach(org=org_a, actor=pm_a, feedback=feedback)
        feedback.refresh_from_db()
        theme.refresh_from_db()
    assert feedback.status == "new" and feedback.triaged_at is None and theme.feedback_count == 0


def test_customer_told_closes_the_loop_until_the_status_changes(org_a, csm_a, pm_a):
    with tenant_context(org_a):
        theme = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="T"))
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), theme=theme)
    with tenant_context(org_a):
        services.feedback_mark_customer_told(org=org_a, actor=csm_a, feedback=feedback)
        feedback.refresh_from_db()
        assert not feedback.loop_open
        services.theme_set_status(org=org_a, actor=pm_a, theme=theme, status=ThemeStatus.SHIPPED)
        feedback.refresh_from_db()
        assert feedback.loop_open


def test_my_feedback_page_shows_status_wording_and_closes_loops(org_a, csm_a, pm_a, client_for):
    from django.urls import reverse

    with tenant_context(org_a):
        theme = services.theme_create(
            org=org_a, actor=pm_a, data=services.NewTheme(title="Bulk export")
        )
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a, name="Globex"), theme=theme)
    client = client_for(csm_a)
    body = client.get(
        reverse("feedback:my-feedback", kwargs={"org_slug": org_a.slug})
    ).content.decode()
    assert "Globex" in body and "actively reviewing" in body
    client.post(
        reverse(
            "feedback:feedback-customer-told", kwargs={"org_slug": org_a.slug, "pk": feedback.pk}
        )
    )
    with tenant_context(org_a):
        feedback.refresh_from_db()
    assert feedback.customer_told_status == ThemeStatus.UNDER_REVIEW
