import pytest
from django.urls import reverse

from alignment.models import AuditEvent, Organization, Role
from alignment.tenancy import tenant_context


def _url(org):
    return reverse("alignment:org-settings", kwargs={"org_slug": org.slug})


VALID = {
    "name": "Acme Analytics EU",
    "timezone": "Europe/Berlin",
    "holiday_country": "DE",
    "currency": "EUR",
    "triage_sla_days": 3,
}


def test_admin_changes_settings_and_the_change_is_audited(org_a, admin_a, client_for):
    response = client_for(admin_a).post(_url(org_a), VALID)
    assert response.status_code == 302
    org_a.refresh_from_db()
    assert (org_a.timezone, org_a.holiday_country, org_a.currency, org_a.triage_sla_days) == (
        "Europe/Berlin",
        "DE",
        "EUR",
        3,
    )
    with tenant_context(org_a):
        event = AuditEvent.objects.get(action="organization.update")
    assert event.changes["triage_sla_days"] == [5, 3]


@pytest.mark.parametrize("role", [Role.CSM, Role.PM, Role.VP_CS, Role.CS_OPS])
def test_non_admins_may_not_change_settings(org_a, make_member, client_for, role):
    member = make_member(org_a, role)
    assert client_for(member).post(_url(org_a), VALID).status_code == 403
    org_a.refresh_from_db()
    assert org_a.name == "Acme Analytics"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "Select a valid choice"),
        ("holiday_country", "XX", "Select a valid choice"),
        ("triage_sla_days", "0", "greater than or equal to 1"),
        ("triage_sla_days", "45", "less than or equal to 30"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_settings_are_refused_inline_and_nothing_changes(
    org_a, admin_a, client_for, field, value, message
):
    response = client_for(admin_a).post(_url(org_a), {**VALID, field: value})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Organization.objects.get(pk=org_a.pk).name == "Acme Analytics"


def test_saving_unchanged_settings_writes_no_audit_event(org_a, admin_a, client_for):
    same = {
        "name": org_a.name,
        "timezone": org_a.timezone,
        "holiday_country": org_a.holiday_country,
        "currency": org_a.currency,
        "triage_sla_days": 5,
    }
    client_for(admin_a).post(_url(org_a), same)
    with tenant_context(org_a):
        assert not AuditEvent.objects.exists()
