import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from alignment.models import Account, Membership, Organization, ProductArea, Role
from alignment.tenancy import cross_tenant_system_context
from tests.factories import AccountFactory, ProductAreaFactory


def _home(org):
    return reverse("alignment:home", kwargs={"org_slug": org.slug})


def test_a_csm_lands_on_their_own_accounts(org_a, csm_a, make_member, client_for):
    AccountFactory(csm=csm_a, name="Mine Corp")
    AccountFactory(csm=make_member(org_a, Role.CSM), name="Someone Else Inc")
    body = client_for(csm_a).get(_home(org_a)).content.decode()
    assert "My accounts" in body and "Mine Corp" in body and "Someone Else Inc" not in body


def test_a_pm_lands_on_their_product_areas(org_a, pm_a, client_for):
    ProductAreaFactory(pm=pm_a, name="Integrations")
    body = client_for(pm_a).get(_home(org_a)).content.decode()
    assert "My product areas" in body and "Integrations" in body


@pytest.mark.parametrize("role", [Role.VP_CS, Role.HEAD_OF_PRODUCT, Role.ADMIN, Role.CS_OPS])
def test_leaders_land_on_the_overview(org_a, make_member, client_for, role):
    response = client_for(make_member(org_a, role)).get(_home(org_a))
    assert response.status_code == 302 and response.url.endswith("/overview/")


def test_overview_sums_arr_at_risk_and_renewals(org_a, admin_a, client_for):
    import datetime

    from django.utils import timezone

    soon = timezone.localdate() + datetime.timedelta(days=30)
    AccountFactory(organization=org_a, arr=300000, lifecycle_stage="at_risk", renewal_date=soon)
    AccountFactory(organization=org_a, arr=40000)
    body = (
        client_for(admin_a)
        .get(reverse("alignment:overview", kwargs={"org_slug": org_a.slug}))
        .content.decode()
    )
    assert "$340,000" in body and "$300K" in body


def test_root_sends_a_member_of_two_orgs_to_the_picker_then_remembers_the_last(
    org_a, org_b, csm_a, make_member, client_for
):
    make_member(org_b, Role.PM, user=csm_a.user)
    client = client_for(csm_a)
    assert client.get("/").url == reverse("org-picker")
    picker = client.get(reverse("org-picker")).content.decode()
    assert "Acme Analytics" in picker and "Borealis Cloud" in picker
    client.get(_home(org_b))
    assert client.get("/").url == _home(org_b)


def test_switcher_lists_only_the_users_own_organizations(
    org_a, org_b, csm_a, make_member, client_for
):
    third = Organization.objects.create(name="Third Org", slug="third")
    make_member(org_b, Role.PM, user=csm_a.user)
    make_member(third, Role.CSM)
    body = client_for(csm_a).get(_home(org_a)).content.decode()
    assert "Borealis Cloud" in body and "Third Org" not in body


def test_a_non_member_gets_404_not_403(org_a, csm_b, client_for):
    assert client_for(csm_b).get(_home(org_a)).status_code == 404
    assert client_for(csm_b).get("/o/no-such-org/").status_code == 404


def test_anonymous_visitors_are_sent_to_login(org_a, client):
    response = client.get(_home(org_a))
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_seed_demo_is_idempotent_and_realistic(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    assert "admin@acme.example" in out.getvalue() and "seam-demo-2026" in out.getvalue()
    with cross_tenant_system_context():
        assert Organization.objects.filter(slug__in=["acme", "borealis"]).count() == 2
        acme = Organization.objects.get(slug="acme")
        accounts = Account.objects.filter(organization=acme)
        assert accounts.count() == 300
        roles = set(Membership.objects.filter(organization=acme).values_list("role", flat=True))
        assert roles == set(Role.values)
        arrs = sorted(accounts.values_list("arr", flat=True), reverse=True)
        # A few large accounts and a long tail of small ones.
        assert arrs[0] >= 300000 and arrs[len(arrs) // 2] < 40000
        assert ProductArea.objects.filter(organization=acme).count() == 6
