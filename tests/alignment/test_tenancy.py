import pytest
from django.db import IntegrityError, connection, transaction

from alignment.models import Account, Membership
from alignment.tenancy import (
    TenantScopeError,
    cross_tenant_system_context,
    tenant_context,
)
from tests.factories import AccountFactory


def test_querying_a_tenant_model_with_no_organization_raises(db):
    with pytest.raises(TenantScopeError):
        list(Account.objects.all())


def test_for_org_returns_only_that_organizations_rows(org_a, org_b):
    AccountFactory(organization=org_a, name="Mine")
    AccountFactory(organization=org_b, name="Theirs")
    with tenant_context(org_a):
        assert [a.name for a in Account.objects.for_org(org_a)] == ["Mine"]
        assert [a.name for a in Account.objects.all()] == ["Mine"]


def test_for_org_naming_another_organization_inside_a_context_raises(org_a, org_b):
    with tenant_context(org_a), pytest.raises(TenantScopeError):
        Account.objects.for_org(org_b)


def test_cross_tenant_escape_hatch_sees_every_organization(org_a, org_b):
    AccountFactory(organization=org_a)
    AccountFactory(organization=org_b)
    with cross_tenant_system_context():
        assert Account.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row-level security is PostgreSQL's")
def test_row_level_security_hides_other_organizations_even_without_orm_filter(org_a, org_b):
    AccountFactory(organization=org_a)
    AccountFactory(organization=org_b)
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute("SELECT organization_id FROM alignment_account")
        assert {row[0] for row in cursor.fetchall()} == {org_a.pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="composite keys are PostgreSQL's")
def test_an_account_cannot_point_at_another_organizations_csm(org_a, csm_b):
    with cross_tenant_system_context(), pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(organization=org_a, name="X", csm=csm_b)
        connection.check_constraints()


def test_membership_of_user_in_other_org_is_invisible_to_org_context(
    org_a, org_b, csm_a, make_member
):
    make_member(org_b, user=csm_a.user)
    with tenant_context(org_a):
        assert list(Membership.objects.values_list("organization_id", flat=True)) == [org_a.pk]
