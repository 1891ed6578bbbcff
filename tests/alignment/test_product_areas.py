import pytest

from alignment.models import AuditEvent, ProductArea, Role
from alignment.tenancy import tenant_context
from tests.factories import ProductAreaFactory


@pytest.fixture
def pm2_a(org_a, make_member):
    return make_member(org_a, Role.PM, user__full_name="Quinn PM")


def _url(org, name, **kw):
    from django.urls import reverse

    return reverse(f"alignment:{name}", kwargs={"org_slug": org.slug, **kw})


def test_cs_ops_creates_a_product_area_with_its_owning_pm(org_a, cs_ops_a, pm_a, client_for):
    response = client_for(cs_ops_a).post(
        _url(org_a, "product-area-create"),
        {"name": "Integrations", "description": "Connectors", "pm": pm_a.pk},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        area = ProductArea.objects.get(name="Integrations")
        assert area.pm == pm_a
        event = AuditEvent.objects.get(action="product_area.create")
        assert event.actor == cs_ops_a.user
        assert event.changes["name"] == "Integrations"


@pytest.mark.parametrize(
    ("role", "status"), [(Role.ADMIN, 200), (Role.CS_OPS, 200), (Role.CSM, 403), (Role.PM, 403)]
)
def test_only_admins_and_cs_ops_may_open_the_product_area_form(
    org_a, make_member, client_for, role, status
):
    member = make_member(org_a, role)
    assert client_for(member).get(_url(org_a, "product-area-create")).status_code == status


def test_duplicate_name_is_refused_inline_whatever_the_case(org_a, admin_a, client_for):
    ProductAreaFactory(organization=org_a, name="Reporting")
    response = client_for(admin_a).post(
        _url(org_a, "product-area-create"), {"name": "  reporting "}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    with tenant_context(org_a):
        assert ProductArea.objects.count() == 1


def test_htmx_form_error_is_returned_as_a_swappable_fragment(org_a, admin_a, client_for):
    response = client_for(admin_a).post(
        _url(org_a, "product-area-create"), {"name": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" not in body and "This field is required" in body


def test_a_csm_cannot_be_the_owning_pm(org_a, admin_a, csm_a, client_for):
    response = client_for(admin_a).post(
        _url(org_a, "product-area-create"), {"name": "Mobile", "pm": csm_a.pk}
    )
    assert response.status_code == 200
    with tenant_context(org_a):
        assert not ProductArea.objects.exists()


def test_a_pm_of_another_organization_cannot_be_chosen(
    org_a, org_b, admin_a, make_member, client_for
):
    other_pm = make_member(org_b, Role.PM)
    response = client_for(admin_a).post(
        _url(org_a, "product-area-create"), {"name": "Mobile", "pm": other_pm.pk}
    )
    assert response.status_code == 200
    with tenant_context(org_a):
        assert not ProductArea.objects.exists()


def test_editing_records_only_changed_fields(org_a, admin_a, pm_a, pm2_a, client_for):
    area = ProductAreaFactory(organization=org_a, name="Mobile", pm=pm_a)
    client_for(admin_a).post(
        _url(org_a, "product-area-edit", pk=area.pk), {"name": "Mobile", "pm": pm2_a.pk}
    )
    with tenant_context(org_a):
        event = AuditEvent.objects.get(action="product_area.update")
        assert set(event.changes) == {"pm"}
        area.refresh_from_db()
        assert area.pm == pm2_a


def test_deleting_an_area_removes_it_and_is_audited(org_a, admin_a, client_for):
    area = ProductAreaFactory(organization=org_a, name="Old")
    response = client_for(admin_a).post(_url(org_a, "product-area-delete", pk=area.pk))
    assert response.status_code == 302
    with tenant_context(org_a):
        assert not ProductArea.objects.exists()
        assert AuditEvent.objects.filter(action="product_area.delete", target_repr="Old").exists()


def test_everyone_in_the_org_sees_the_list_with_constant_queries(
    org_a, csm_a, pm_a, client_for, django_assert_max_num_queries
):
    for i in range(3):
        ProductAreaFactory(organization=org_a, pm=pm_a, name=f"A{i}")
    client = client_for(csm_a)
    with django_assert_max_num_queries(18):
        response = client.get(_url(org_a, "product-area-list"))
    for i in range(3, 20):
        ProductAreaFactory(organization=org_a, pm=pm_a, name=f"A{i}")
    with django_assert_max_num_queries(18):
        response = client.get(_url(org_a, "product-area-list"))
    assert response.status_code == 200
    assert "A19" in response.content.decode()
    assert "New product area" not in response.content.decode()
