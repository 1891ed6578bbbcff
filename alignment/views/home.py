"""Landing pages: the root redirect, the organization picker, the role-aware home."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from alignment import selectors
from alignment.decorators import org_view
from alignment.models import Account, LifecycleStage, ProductArea, Role
from alignment.permissions import Perm
from alignment.tenancy import user_context


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def root(request: HttpRequest) -> HttpResponse:
    """Send a person to their last organization, their only one, or the picker."""
    with user_context(request.user.pk):
        memberships = list(selectors.membership_list_for_user(request.user))
    if not memberships:
        return render(request, "alignment/no_organization.html", status=200)
    slugs = [m.organization.slug for m in memberships]
    last = request.session.get("last_org")
    if last in slugs:
        return redirect("alignment:home", org_slug=last)
    if len(memberships) == 1:
        return redirect("alignment:home", org_slug=slugs[0])
    return redirect("org-picker")


@login_required
def org_picker(request: HttpRequest) -> HttpResponse:
    with user_context(request.user.pk):
        memberships = list(selectors.membership_list_for_user(request.user))
    return render(request, "alignment/org_picker.html", {"memberships": memberships})


@org_view()
def home(request: HttpRequest) -> HttpResponse:
    """CSMs land on their accounts, PMs on their product areas, leaders on the overview."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    role = membership.role
    if role == Role.CSM:
        accounts = (
            Account.objects.for_org(org)
            .filter(csm=membership)
            .exclude(lifecycle_stage=LifecycleStage.CHURNED)
            .order_by("renewal_date", "-arr")
        )
        book = accounts.aggregate(arr=Sum("arr"))["arr"] or 0
        return render(
            request,
            "alignment/home_csm.html",
            {
                "accounts": accounts[:50],
                "account_count": accounts.count(),
                "book_arr": book,
                "today": timezone.localdate(timezone=org.tzinfo),
                "nav": "home",
            },
        )
    if role == Role.PM:
        mine = ProductArea.objects.for_org(org).filter(pm=membership).order_by("name")
        return render(
            request,
            "alignment/home_pm.html",
            {"my_areas": mine, "all_areas": selectors.product_area_list(org=org), "nav": "home"},
        )
    if role in (Role.VP_CS, Role.HEAD_OF_PRODUCT, Role.ADMIN, Role.CS_OPS):
        return redirect("alignment:overview", org_slug=org.slug)
    return render(
        request,
        "alignment/home_member.html",
        {"areas": selectors.product_area_list(org=org), "nav": "home"},
    )


@org_view(Perm.OVERVIEW_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    data = selectors.org_overview(org=org)
    team = [(label, data["team"].get(value, 0)) for value, label in Role.choices]
    return render(
        request, "alignment/overview.html", {**data, "team_rows": team, "nav": "overview"}
    )


org_urlpatterns = [
    path("", home, name="home"),
    path("overview/", overview, name="overview"),
]
