"""CS Ops and admins shape the category list; everyone can read it."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from alignment.errors import ApplicationError
from alignment.models import AuditEvent
from alignment.tenancy import tenant_context
from feedback import services
from feedback.models import Category, Feedback
from feedback.services_categories import category_create, category_delete, category_update
from tests.factories import AccountFactory


def url(org, name, **kwargs):
    return reverse(f"feedback:{name}", kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def bug(org_a, cs_ops_a):
    with tenant_context(org_a):
        return category_create(org=org_a, actor=cs_ops_a, name="Bug", description="Broken")


def test_a_fresh_organization_sees_the_five_default_categories(org_a, csm_a, client_for):
    response = client_for(csm_a).get(url(org_a, "category-list"))
    assert response.status_code == 200
    names = [c.name for c in response.context["categories"]]
    assert names == ["Feature request", "Bug", "Usability friction", "Integration", "Performance"]
    assert response.context["can_edit"] is False
    assert "New category" not in response.content.decode()


def test_the_category_list_shows_feedback_counts_in_constant_queries(
    org_a, cs_ops_a, csm_a, client_for, django_assert_max_num_queries
):
    with tenant_context(org_a):
        services.categories_ensure_defaults(org=org_a)
        categories = list(Category.objects.all())
        for i in range(6):
            services.feedback_log(
                org=org_a,
                actor=csm_a,
                account=AccountFactory(csm=csm_a),
                verbatim=f"Request {i}",
                category=categories[i % 2],
            )
    client = client_for(cs_ops_a)
    with django_assert_max_num_queries(18) as small:
        client.get(url(org_a, "category-list"))
    with tenant_context(org_a):
        for name in ("Security", "Billing", "Mobile"):
            category_create(org=org_a, actor=cs_ops_a, name=name)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url(org_a, "category-list"))
    counts = {c.name: c.feedback_total for c in response.context["categories"]}
    assert counts["Feature request"] == 3 and counts["Bug"] == 3 and counts["Integration"] == 0


def test_cs_ops_creates_a_category_and_a_csm_may_not(org_a, cs_ops_a, csm_a, client_for):
    data = {"name": "Security", "description": "Compliance asks", "position": ""}
    assert client_for(csm_a).get(url(org_a, "category-create")).status_code == 403
    assert client_for(csm_a).post(url(org_a, "category-create"), data).status_code == 403
    response = client_for(cs_ops_a).post(url(org_a, "category-create"), data)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Category “Security” created."]
    with tenant_context(org_a):
        assert Category.objects.filter(name="Security").count() == 1
        assert AuditEvent.objects.filter(action="category.create").count() == 1


def test_a_duplicate_name_is_refused_inline_whatever_its_case(org_a, admin_a, bug, client_for):
    response = client_for(admin_a).post(
        url(org_a, "category-create"), {"name": "  bUG ", "description": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "already exists" in " ".join(response.context["form"].errors["name"])
    with tenant_context(org_a):
        assert Category.objects.count() == 1


def test_renaming_a_category_is_audited_with_what_changed(org_a, cs_ops_a, csm_a, bug, client_for):
    data = {"name": "Defect", "description": "Broken", "position": "3"}
    assert client_for(csm_a).post(url(org_a, "category-edit", pk=bug.pk), data).status_code == 403
    response = client_for(cs_ops_a).post(url(org_a, "category-edit", pk=bug.pk), data)
    assert response.status_code == 302
    with tenant_context(org_a):
        bug.refresh_from_db()
        assert (bug.name, bug.position) == ("Defect", 3)
        event = AuditEvent.objects.get(action="category.update")
        assert event.changes["name"] == ["Bug", "Defect"]


def test_renaming_onto_another_categorys_name_is_refused(org_a, cs_ops_a, bug):
    with tenant_context(org_a):
        other = category_create(org=org_a, actor=cs_ops_a, name="Integration")
        with pytest.raises(ApplicationError) as error:
            category_update(org=org_a, actor=cs_ops_a, category=other, name="BUG")
        assert "name" in error.value.field_errors
        # Renaming to its own name in another case is fine.
        category_update(org=org_a, actor=cs_ops_a, category=bug, name="bug")


def test_deleting_a_category_keeps_its_feedback_uncategorized(
    org_a, cs_ops_a, csm_a, bug, client_for
):
    with tenant_context(org_a):
        feedback = services.feedback_log(
            org=org_a,
            actor=csm_a,
            account=AccountFactory(csm=csm_a),
            verbatim="Export crashes",
            category=bug,
        )
    assert client_for(csm_a).post(url(org_a, "category-delete", pk=bug.pk)).status_code == 403
    edit_page = client_for(cs_ops_a).get(url(org_a, "category-edit", pk=bug.pk)).content.decode()
    assert "data-confirm" in edit_page
    response = client_for(cs_ops_a).post(url(org_a, "category-delete", pk=bug.pk))
    assert response.status_code == 302
    assert "1 feedback item now has no category" in str(
        next(iter(get_messages(response.wsgi_request)))
    )
    with tenant_context(org_a):
        feedback.refresh_from_db()
        assert feedback.category is None and feedback.verbatim == "Export crashes"
        assert not Category.objects.filter(pk=bug.pk).exists()
        assert AuditEvent.objects.filter(action="category.delete").count() == 1
        assert Feedback.objects.count() == 1


def test_another_organizations_category_is_a_404(org_a, org_b, admin_b, bug, client_for):
    client = client_for(admin_b)
    assert client.get(url(org_b, "category-edit", pk=bug.pk)).status_code == 404
    assert client.post(url(org_b, "category-delete", pk=bug.pk)).status_code == 404
    with tenant_context(org_a):
        assert Category.objects.filter(pk=bug.pk).exists()
    with tenant_context(org_b), pytest.raises(ApplicationError):
        category_delete(org=org_b, actor=admin_b, category=bug)
