"""The cross-organization sweep: every URL under /o/<org_slug>/, walked from the URL conf.

An active admin of organization A (an admin holds every permission) asks for organization
B's objects in two ways, by GET and by an empty POST:

- with A's slug and B's object ids: the view must treat B's objects as missing (404);
- with B's slug (A's admin is not a member of B): 404 for every page, with or without ids.

Afterwards every row of B, in every tenant table, is exactly as before.

The meta-tests keep the sweep complete: a new URL under /o/<org_slug>/ that takes ids must
be added to ``KWARGS_FROM`` below, every view there must be wrapped by ``org_view``, and a
new URL outside /o/ must be added to ``OUTSIDE_ORG_ALLOWLIST`` with the reason it is safe.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alignment.models import (
    Account,
    AuditEvent,
    ImportJob,
    Invitation,
    Membership,
    Notification,
    Organization,
    ProductArea,
    Role,
)
from alignment.rls import tenant_models
from alignment.tenancy import cross_tenant_system_context, tenant_context
from feedback import services as feedback_services
from feedback.models import Category, Feedback, Theme
from tests import isolation_registry
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    OrganizationFactory,
    ProductAreaFactory,
)

ORG_PREFIX = "o/<slug:org_slug>/"
INVITE_TOKEN = "isolation-test-token-of-borealis"


# --- the URL conf, walked --------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # the full route, e.g. "o/<slug:org_slug>/accounts/<int:pk>/"
    name: str  # "namespace:name", or the route itself when the pattern has no name
    callback: Callable[..., Any]
    kwargs: frozenset[str]  # every captured argument, org_slug included


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            yield from _walk(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else route
            captured = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
            captured |= set(re.findall(r"\(\?P<(\w+)>", route))
            yield Route(route, name, entry.callback, frozenset(captured))


ROUTES = list(_walk(get_resolver().url_patterns))
ORG_ROUTES = [r for r in ROUTES if r.route.startswith(ORG_PREFIX)]
OUTSIDE_ORG_ROUTES = [r for r in ROUTES if not r.route.startswith(ORG_PREFIX)]


# --- the registry: how to name organization B's objects in each URL --------------------------


@dataclass
class OrgObjects:
    """One organization with one of everything, so every URL has a real object to name."""

    org: Organization
    admin: Membership
    member: Membership  # a second member, the target of role changes and deactivation
    account: Account
    product_area: ProductArea
    invitation: Invitation
    import_job: ImportJob
    notification: Notification
    audit_event: AuditEvent
    feedback: Feedback
    category: Category
    theme: Theme
    # Objects of later features, by name (see tests/isolation_registry/).
    extra: dict[str, Any] = field(default_factory=dict)


# Every URL under /o/<org_slug>/ that takes arguments besides the slug: how to fill them with
# one organization's objects. A URL missing here fails ``test_every_org_url_with_ids_is_swept``.
KWARGS_FROM: dict[str, Callable[[OrgObjects], dict[str, Any]]] = {
    "alignment:account-detail": lambda o: {"pk": o.account.pk},
    "alignment:account-edit": lambda o: {"pk": o.account.pk},
    "alignment:account-import-status": lambda o: {"pk": o.import_job.pk},
    "alignment:account-import-rejected": lambda o: {"pk": o.import_job.pk},
    "alignment:product-area-edit": lambda o: {"pk": o.product_area.pk},
    "alignment:product-area-delete": lambda o: {"pk": o.product_area.pk},
    "alignment:member-role": lambda o: {"pk": o.member.pk},
    "alignment:member-deactivate": lambda o: {"pk": o.member.pk},
    "alignment:member-reactivate": lambda o: {"pk": o.member.pk},
    "alignment:invitation-revoke": lambda o: {"pk": o.invitation.pk},
    "alignment:invitation-resend": lambda o: {"pk": o.invitation.pk},
    "alignment:notification-read": lambda o: {"pk": o.notification.pk},
    "alignment:audit-detail": lambda o: {"pk": o.audit_event.pk},
    "feedback:feedback-customer-told": lambda o: {"pk": o.feedback.pk},
    "feedback:triage-attach": lambda o: {"pk": o.feedback.pk},
    "feedback:triage-new-theme": lambda o: {"pk": o.feedback.pk},
    "feedback:triage-undo": lambda o: {"pk": o.feedback.pk},
    "feedback:theme-detail": lambda o: {"pk": o.theme.pk},
    "feedback:theme-status": lambda o: {"pk": o.theme.pk},
    "feedback:theme-merge": lambda o: {"pk": o.theme.pk},
    "feedback:theme-detach": lambda o: {"pk": o.theme.pk, "feedback_pk": o.feedback.pk},
    "feedback:category-edit": lambda o: {"pk": o.category.pk},
    "feedback:category-delete": lambda o: {"pk": o.category.pk},
    **isolation_registry.kwargs_from(),
}

# Every URL outside /o/<org_slug>/, with why it needs no organization from the URL. A URL
# missing here fails ``test_every_url_outside_organizations_is_accounted_for``.
OUTSIDE_ORG_ALLOWLIST: dict[str, str] = {
    "root": "redirects to one of the user's own organizations, reads only their memberships",
    "healthz": "liveness probe: one SELECT 1, no data",
    "org-picker": "lists only the signed-in user's own memberships (user_context)",
    "login": "anonymous sign-in form",
    "logout": "ends the caller's own session",
    "password_change": "changes the signed-in user's own password",
    "password_change_done": "static confirmation page",
    "password_reset": "anonymous: emails a reset link, reveals nothing about accounts",
    "password_reset_done": "static confirmation page",
    "password_reset_confirm": "token-bound to one user, no organization data",
    "password_reset_complete": "static confirmation page",
    "invite-accept": "the organization comes from the URL and the token is looked up inside it "
    "(tested below: another organization's token is a 404)",
    **{
        f"api:{name}": "REST API: the organization comes from the API key, never the URL; the "
        "base viewset scopes every query to it (tests/integrations/test_api_isolation.py)"
        for name in (
            "account-list",
            "account-detail",
            "account-bulk-upsert",
            "feedback-list",
            "feedback-detail",
            "theme-list",
            "theme-detail",
            "roadmap-item-list",
            "roadmap-item-detail",
            "commitment-list",
            "commitment-detail",
            "release-list",
            "release-detail",
        )
    },
    "api:schema": "the OpenAPI description of the API: public, no data",
    "api:docs": "Swagger UI page and its init script: public, no data",
    "api:not-found": "the API's catch-all problem+json 404: reads nothing",
}


def populate_org(org: Organization, *, admin_email: str) -> OrgObjects:
    admin = MembershipFactory(organization=org, role=Role.ADMIN, user__email=admin_email)
    member = MembershipFactory(organization=org, role=Role.CSM)
    pm = MembershipFactory(organization=org, role=Role.PM)
    account = AccountFactory(organization=org, csm=member, name=f"{org.name} customer")
    product_area = ProductAreaFactory(organization=org, pm=pm, name=f"{org.name} reporting")
    now = timezone.now()
    with tenant_context(org):
        invitation = Invitation.objects.for_org(org).create(
            organization=org,
            email=f"newcomer@{org.slug}.test",
            role=Role.PM,
            token_hash=hashlib.sha256(f"{INVITE_TOKEN}-{org.slug}".encode()).hexdigest(),
            invited_by=admin,
            expires_at=now + datetime.timedelta(days=7),
        )
        import_job = ImportJob.objects.for_org(org).create(
            organization=org,
            kind="accounts",
            created_by=admin,
            filename="accounts.csv",
            content="external_id,name,arr\nX-1,Example,1000\nX-2,,oops\n",
            status="done",
            total_rows=2,
            processed_rows=2,
            created_count=1,
            error_count=1,
            errors=[{"row": 3, "external_id": "X-2", "message": "A name is required."}],
            finished_at=now,
        )
        notification = Notification.objects.for_org(org).create(
            organization=org,
            recipient=admin,
            kind="test",
            title="Something happened",
            dedupe_key=f"isolation-{org.slug}",
            email_status="skipped",
        )
        audit_event = AuditEvent.objects.for_org(org).create(
            organization=org,
            actor=admin.user,
            actor_label=admin.user.email,
            action="account.create",
            target_type="account",
            target_id=str(account.pk),
            target_repr=account.name,
        )
        feedback = feedback_services.feedback_log(
            org=org, actor=admin, account=account, verbatim="We need SSO for contractors."
        )
        category = Category.objects.for_org(org).create(organization=org, name=f"{org.name} bug")
        theme = feedback_services.theme_create(
            org=org, actor=admin, data=feedback_services.NewTheme(title="SSO for contractors")
        )
        feedback_services.feedback_attach(org=org, actor=admin, feedback=feedback, theme=theme)
    objects = OrgObjects(
        org=org,
        admin=admin,
        member=member,
        account=account,
        product_area=product_area,
        invitation=invitation,
        import_job=import_job,
        notification=notification,
        audit_event=audit_event,
        feedback=feedback,
        category=category,
        theme=theme,
    )
    with tenant_context(org):
        isolation_registry.populate_all(objects)
    return objects


@pytest.fixture
def orgs(db) -> tuple[OrgObjects, OrgObjects]:  # type: ignore[no-untyped-def]
    a = populate_org(OrganizationFactory(name="Acme", slug="acme"), admin_email="admin@acme.test")
    b = populate_org(
        OrganizationFactory(name="Borealis", slug="borealis"), admin_email="admin@borealis.test"
    )
    return a, b


def _snapshot(org: Organization) -> dict[str, Any]:
    """Every row of one organization, every column, in every tenant table, plus the org row."""
    data: dict[str, Any] = {
        "organization": list(Organization.objects.filter(pk=org.pk).values()),
    }
    with cross_tenant_system_context():
        for model in tenant_models():
            data[model._meta.label] = list(
                model.objects.filter(organization_id=org.pk).order_by("pk").values()
            )
    return data


def _client_for(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _url(name: str, slug: str, objects: OrgObjects, *, missing: bool = False) -> str:
    kwargs = KWARGS_FROM[name](objects) if name in KWARGS_FROM else {}
    if missing:  # the same URL naming objects that exist nowhere
        kwargs = {
            k: MISSING_ID if isinstance(v, int) else f"missing-{v}" for k, v in kwargs.items()
        }
    return reverse(name, kwargs={"org_slug": slug, **kwargs})


MISSING_ID = 2_000_000_000
# 405 is accepted only when a truly missing object gets it too: Django's require_POST answers
# before the view looks anything up, so the answer says nothing about the data.
NOTHING_FOUND = {404, 405}


def _assert_treated_as_missing(client: Client, url: str, missing_url: str) -> None:
    requests = [
        ("GET", lambda u: client.get(u)),
        ("POST", lambda u: client.post(u, {})),
        ("htmx POST", lambda u: client.post(u, {}, headers={"HX-Request": "true"})),
    ]
    for label, send in requests:
        status = send(url).status_code
        assert status in NOTHING_FOUND, f"{label} {url} answered {status}, expected 404"
        if status != 404:
            expected = send(missing_url).status_code
            assert status == expected, (
                f"{label} {url} answered {status}, but {expected} for a missing object"
            )


ORG_NAMES = sorted({r.name for r in ORG_ROUTES})
ORG_NAMES_WITH_IDS = sorted({r.name for r in ORG_ROUTES if r.kwargs - {"org_slug"}})


# --- the sweep -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ORG_NAMES_WITH_IDS)
def test_other_organizations_objects_are_missing_under_my_own_organization(name, orgs):
    a, b = orgs
    before = _snapshot(b.org)
    client = _client_for(a.admin)

    _assert_treated_as_missing(
        client, _url(name, a.org.slug, b), _url(name, a.org.slug, b, missing=True)
    )

    assert _snapshot(b.org) == before


@pytest.mark.parametrize("name", ORG_NAMES)
def test_an_organization_i_do_not_belong_to_is_missing_on_every_page(name, orgs):
    a, b = orgs
    before = _snapshot(b.org)
    client = _client_for(a.admin)

    _assert_treated_as_missing(client, _url(name, b.org.slug, b), _url(name, "no-such-org", b))

    assert _snapshot(b.org) == before


@pytest.mark.parametrize("name", ORG_NAMES_WITH_IDS)
def test_the_registry_names_real_objects_for_my_own_organization(name, orgs):
    """The positive control: with A's own objects the same URLs are found, so the 404s above
    come from the organization boundary and not from wrong ids."""
    a, _ = orgs
    url = _url(name, a.org.slug, a)

    response = _client_for(a.admin).get(url)

    assert response.status_code != 404, f"GET {url} with A's own objects answered 404"


def test_an_invitation_token_of_another_organization_is_missing(orgs):
    a, b = orgs
    token = f"{INVITE_TOKEN}-{b.org.slug}"
    before = _snapshot(b.org)
    own = reverse("invite-accept", kwargs={"org_slug": b.org.slug, "token": token})
    crossed = reverse("invite-accept", kwargs={"org_slug": a.org.slug, "token": token})

    assert Client().get(own).status_code != 404  # the token is real for its own organization
    missing = reverse("invite-accept", kwargs={"org_slug": a.org.slug, "token": "no-such-token"})
    for client in (Client(), _client_for(a.admin)):
        _assert_treated_as_missing(client, crossed, missing)
    assert _snapshot(b.org) == before


# --- meta: nothing slips past the sweep ------------------------------------------------------


def test_the_sweep_sees_the_organization_urls():
    assert "alignment:home" in ORG_NAMES
    assert "alignment:account-detail" in ORG_NAMES_WITH_IDS


@pytest.mark.parametrize("name", ORG_NAMES_WITH_IDS)
def test_every_org_url_with_ids_is_swept(name):
    assert name in KWARGS_FROM, (
        f"{name} takes ids besides org_slug: add it to KWARGS_FROM in tests/test_isolation.py "
        "so the cross-organization sweep covers it."
    )
    (route,) = {r for r in ORG_ROUTES if r.name == name}
    filled = set(KWARGS_FROM[name](_FakeObjects())) | {"org_slug"}
    assert filled == set(route.kwargs), f"{name} captures {sorted(route.kwargs)}"


def test_the_registry_names_only_existing_urls():
    stale = sorted(set(KWARGS_FROM) - set(ORG_NAMES_WITH_IDS))
    # Entries may be written ahead of their URL; only those that exist must match exactly.
    # An entry naming a URL that exists *without* ids is a mistake.
    wrong = [name for name in stale if name in ORG_NAMES]
    assert not wrong, f"these URLs take no ids, remove them from KWARGS_FROM: {wrong}"


@pytest.mark.parametrize("name", ORG_NAMES)
def test_every_view_under_an_organization_is_wrapped_by_org_view(name):
    for route in (r for r in ORG_ROUTES if r.name == name):
        view = route.callback
        if hasattr(view, "view_class"):
            pytest.fail(
                f"{route.route} is a class-based view: wrap it with org_view (method_decorator) "
                "and teach this test to recognise it."
            )
        assert getattr(view, "seam_org_view", False), (
            f"{route.route} ({name}) is not wrapped by @org_view: it would run with no "
            "organization resolved and no membership check."
        )


def test_every_url_outside_organizations_is_accounted_for():
    unknown = sorted(
        f"{r.name} ({r.route})" for r in OUTSIDE_ORG_ROUTES if r.name not in OUTSIDE_ORG_ALLOWLIST
    )
    assert not unknown, (
        "URLs outside /o/<org_slug>/ must be listed in OUTSIDE_ORG_ALLOWLIST with the reason "
        f"they need no organization: {unknown}"
    )
    assert all(reason.strip() for reason in OUTSIDE_ORG_ALLOWLIST.values())


class _FakeObject:
    pk = 1
    id = 1
    slug = "x"

    def __getattr__(self, name: str) -> Any:
        return _FakeObject()


class _FakeExtra(dict):
    def __missing__(self, key: str) -> Any:
        return _FakeObject()


class _FakeObjects:
    """Answers any attribute with an object whose pk is 1: enough to read a registry entry."""

    extra = _FakeExtra()

    def __getattr__(self, name: str) -> Any:
        return _FakeObject()
