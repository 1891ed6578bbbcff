"""CSMs log what a customer said: the form, the account type-ahead, similar suggestions."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from alignment.models import AuditEvent
from alignment.tenancy import tenant_context
from feedback import services
from feedback.models import Category, Feedback, ThemeStatus
from feedback.selectors_capture import query_words
from tests.factories import AccountFactory


def url(org, name, **kwargs):
    return reverse(f"feedback:{name}", kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def account(csm_a):
    return AccountFactory(csm=csm_a, name="Northwind Logistics", arr=Decimal("120000"))


def valid(acct, **changes):
    data = {
        "account": acct.pk,
        "verbatim": "We need our Salesforce opportunities to sync every hour.",
        "job_to_be_done": "Forecast renewals",
        "workaround": "CSV exports",
        "source": "call",
        "urgency": "medium",
        "answer_needed_by": "",
        "product_area": "",
        "category": "",
        "theme": "",
    }
    data.update(changes)
    return data


def make_theme(org, actor, title, description="", status=ThemeStatus.UNDER_REVIEW, reason=""):
    with tenant_context(org):
        return services.theme_create(
            org=org,
            actor=actor,
            data=services.NewTheme(
                title=title, description=description, status=status, not_planned_reason=reason
            ),
        )


def test_the_log_form_offers_browser_sources_and_a_fresh_orgs_five_categories(
    org_a, csm_a, client_for
):
    response = client_for(csm_a).get(url(org_a, "feedback-log"))
    assert response.status_code == 200
    form = response.context["form"]
    assert "api" not in dict(form.fields["source"].choices)
    assert form.initial.get("source", form.fields["source"].initial) == "call"
    assert form.fields["urgency"].initial == "medium"
    with tenant_context(org_a):
        assert Category.objects.count() == 5
        assert form.fields["category"].queryset.count() == 5


def test_logging_feedback_starts_its_clock_and_lands_on_my_feedback(
    org_a, csm_a, account, client_for
):
    client = client_for(csm_a)
    response = client.post(url(org_a, "feedback-log"), valid(account))
    assert response.status_code == 302
    assert response.url == url(org_a, "my-feedback")
    with tenant_context(org_a):
        feedback = Feedback.objects.get()
        assert feedback.account == account and feedback.logged_by == csm_a
        assert feedback.due_at > feedback.created_at and feedback.status == "new"
        assert feedback.job_to_be_done == "Forecast renewals"
        assert AuditEvent.objects.filter(action="feedback.log").count() == 1
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [
        f"Logged for Northwind Logistics. Product has {org_a.triage_sla_days} business days "
        "to triage it."
    ]
    page = client.get(url(org_a, "my-feedback")).content.decode()
    assert "Northwind Logistics" in page and "New" in page


def test_htmx_submit_gets_a_client_redirect(org_a, csm_a, account, client_for):
    response = client_for(csm_a).post(
        url(org_a, "feedback-log"), valid(account), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == url(org_a, "my-feedback")


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"verbatim": "   "}, "verbatim", "Write down what the customer said"),
        ({"answer_needed_by": "2001-01-01"}, "answer_needed_by", "That date has passed"),
        ({"answer_needed_by": "soon"}, "answer_needed_by", "Enter a date"),
        ({"account": ""}, "account", "Choose the account"),
    ],
)
def test_bad_input_is_shown_inline_and_keeps_what_was_typed(
    org_a, csm_a, account, client_for, changes, field, text
):
    data = valid(account, **changes)
    response = client_for(csm_a).post(url(org_a, "feedback-log"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert text in " ".join(response.context["form"].errors[field])
    body = response.content.decode()
    assert "Forecast renewals" in body and "CSV exports" in body
    assert "<html" not in body  # the form fragment, not the page
    with tenant_context(org_a):
        assert not Feedback.objects.exists()


def test_an_account_of_another_organization_is_refused_and_nothing_is_saved(
    org_a, org_b, csm_a, client_for
):
    theirs = AccountFactory(organization=org_b, name="Borealis Secret Customer")
    response = client_for(csm_a).post(url(org_a, "feedback-log"), valid(theirs))
    assert response.status_code == 200
    assert "Choose an account of this organization" in " ".join(
        response.context["form"].errors["account"]
    )
    assert "Borealis Secret Customer" not in response.content.decode()
    with tenant_context(org_a):
        assert not Feedback.objects.exists()
    with tenant_context(org_b):
        assert not Feedback.objects.exists()


def test_feedback_can_be_attached_to_a_suggested_theme_from_the_form(
    org_a, csm_a, pm_a, account, client_for
):
    theme = make_theme(org_a, pm_a, "Salesforce sync")
    client = client_for(csm_a)
    chosen = client.get(url(org_a, "feedback-similar") + f"?attach={theme.pk}").content.decode()
    assert "Will be added to:" in chosen and "Salesforce sync" in chosen
    assert f'name="theme" value="{theme.pk}"' in chosen
    undone = client.get(url(org_a, "feedback-similar") + "?attach=").content.decode()
    assert "Will be added to" not in undone

    response = client.post(url(org_a, "feedback-log"), valid(account, theme=theme.pk))
    assert response.status_code == 302
    with tenant_context(org_a):
        feedback = Feedback.objects.get()
        assert feedback.theme == theme and feedback.triaged_at is not None
    assert "added to “Salesforce sync”" in str(next(iter(get_messages(response.wsgi_request))))


def test_a_closed_theme_cannot_be_attached_through_the_form(
    org_a, csm_a, pm_a, account, client_for
):
    theme = make_theme(org_a, pm_a, "Old idea", status=ThemeStatus.NOT_PLANNED, reason="Niche")
    response = client_for(csm_a).post(url(org_a, "feedback-log"), valid(account, theme=theme.pk))
    assert "theme" in response.context["form"].errors
    with tenant_context(org_a):
        assert not Feedback.objects.exists()


def test_account_search_finds_this_orgs_accounts_with_the_csms_own_first(
    org_a, org_b, csm_a, make_member, client_for
):
    other_csm = make_member(org_a)
    AccountFactory(organization=org_a, csm=other_csm, name="Acme North", external_id="AC-1")
    AccountFactory(csm=csm_a, name="Zeta Northwind")
    AccountFactory(organization=org_b, name="North Borealis")
    client = client_for(csm_a)
    response = client.get(url(org_a, "feedback-account-search") + "?q=north")
    names = [a.name for a in response.context["accounts"]]
    assert names == ["Zeta Northwind", "Acme North"]
    assert "North Borealis" not in response.content.decode()
    by_id = client.get(url(org_a, "feedback-account-search") + "?q=ac-1").context["accounts"]
    assert [a.name for a in by_id] == ["Acme North"]


def test_picking_an_account_shows_it_with_its_arr_and_never_another_orgs(
    org_a, org_b, csm_a, account, client_for
):
    client = client_for(csm_a)
    picked = client.get(url(org_a, "feedback-account-search") + f"?pick={account.pk}")
    body = picked.content.decode()
    assert "Northwind Logistics" in body and "120,000" in body
    assert f'name="account" value="{account.pk}"' in body
    theirs = AccountFactory(organization=org_b, name="Borealis Hidden")
    leaked = client.get(url(org_a, "feedback-account-search") + f"?pick={theirs.pk}")
    assert "Borealis Hidden" not in leaked.content.decode()


def test_the_form_without_javascript_preselects_an_account_from_the_list_link(
    org_a, csm_a, account, client_for
):
    response = client_for(csm_a).get(url(org_a, "feedback-log") + f"?account={account.pk}")
    assert response.context["chosen_account"] == account


def test_similar_suggestions_find_a_matching_open_theme_and_never_another_orgs(
    org_a, org_b, csm_a, pm_a, admin_b, account, client_for
):
    make_theme(org_a, pm_a, "Salesforce sync", "Two-way opportunity sync")
    make_theme(org_a, pm_a, "Dark mode")
    make_theme(org_b, admin_b, "Salesforce connector for Borealis")
    services_log = services.feedback_log
    with tenant_context(org_a):
        services_log(
            org=org_a, actor=csm_a, account=account, verbatim="Opportunities must sync nightly"
        )
    response = client_for(csm_a).get(
        url(org_a, "feedback-similar"), {"verbatim": "They want Salesforce opportunities synced"}
    )
    titles = [t.title for t in response.context["similar_themes"]]
    assert titles == ["Salesforce sync"]
    assert [f.verbatim for f in response.context["similar_feedback"]] == [
        "Opportunities must sync nightly"
    ]
    assert "Borealis" not in response.content.decode()
    assert "Attach to this theme" in response.content.decode()


def test_short_words_alone_suggest_nothing(org_a, csm_a, client_for):
    response = client_for(csm_a).get(url(org_a, "feedback-similar") + "?q=we+need+it")
    assert response.context["similar_themes"] == []
    assert query_words("We need the API, now! Salesforce salesforce 2026") == [
        "need",
        "salesforce",
    ]


def test_another_organizations_member_cannot_open_the_log_form(org_a, csm_b, client_for):
    assert client_for(csm_b).get(url(org_a, "feedback-log")).status_code == 404


def test_answer_needed_by_today_is_accepted(org_a, csm_a, account, client_for):
    from feedback.forms import org_today

    today = org_today(org_a)
    response = client_for(csm_a).post(
        url(org_a, "feedback-log"), valid(account, answer_needed_by=today.isoformat())
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        assert Feedback.objects.get().answer_needed_by == today
    assert today >= datetime.date(2020, 1, 1)
