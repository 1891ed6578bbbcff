"""Release pages (upcoming and shipped, the CS brief, announce, ship) and the monthly briefing."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post, render_form
from alignment.permissions import Perm
from roadmap import selectors_releases as selectors
from roadmap import services_releases as services
from roadmap.briefing import briefing_build
from roadmap.forms_releases import AnnounceForm, ReleaseForm, ShipForm
from roadmap.models import Release, ReleaseItem, ReleaseStatus

CSS = "css/releases.css"


def _can_manage(request: HttpRequest) -> bool:
    return has_perm(request, Perm.RELEASE_MANAGE)


def _notice(release: Release, today: datetime.date) -> dict[str, object]:
    days = services.notice_days(release, today=today)
    return {
        "days": days,
        "late": release.customer_facing and days < services.NOTICE_DAYS,
        "required": services.NOTICE_DAYS,
    }


@org_view()
def release_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    can_manage = _can_manage(request)
    board = selectors.release_board(org=org, can_manage=can_manage)
    today = services.org_today(org)
    for release in board.drafts + board.upcoming:
        release.notice = _notice(release, today)
    return render(
        request,
        "roadmap/releases/list.html",
        {"board": board, "can_manage": can_manage, "today": today, "nav": "releases"},
    )


@org_view()
def release_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    can_manage = _can_manage(request)
    release = selectors.release_get(org=org, pk=pk, can_manage=can_manage)
    items, hidden = selectors.release_items(
        org=org, release=release, can_view_internal=has_perm(request, Perm.ROADMAP_VIEW_INTERNAL)
    )
    today = services.org_today(org)
    return render(
        request,
        "roadmap/releases/detail.html",
        {
            "release": release,
            "items": items,
            "hidden_items": hidden,
            "notice": _notice(release, today),
            "missing_brief": services.release_brief_missing(release),
            "talking_points": [
                line.strip(" -•\t") for line in release.talking_points.splitlines() if line.strip()
            ],
            "can_manage": can_manage,
            "nav": "releases",
        },
    )


def _data(form: ReleaseForm) -> services.ReleaseData:
    data = form.cleaned_data
    return services.ReleaseData(
        name=data["name"],
        release_date=data["release_date"],
        customer_facing=data["customer_facing"],
        messaging=data["messaging"],
        talking_points=data["talking_points"],
        do_not_say=data["do_not_say"],
        items=list(data["items"]),
    )


def _release_form_page(request: HttpRequest, release: Release | None) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    include: list[int] = []
    initial = None
    if release is not None:
        include = list(
            ReleaseItem.objects.for_org(org)
            .filter(release=release)
            .values_list("item_id", flat=True)
        )
        initial = {
            "name": release.name,
            "release_date": release.release_date,
            "customer_facing": release.customer_facing,
            "messaging": release.messaging,
            "talking_points": release.talking_points,
            "do_not_say": release.do_not_say,
            "items": include,
        }
    form = ReleaseForm(request.POST or None, org=org, include=include, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if release is None:
                release = services.release_create(org=org, actor=membership, data=_data(form))
                messages.success(
                    request,
                    f"Draft “{release.name}” created. Announce it to CS when the brief is ready.",
                )
            else:
                services.release_update(
                    org=org, actor=membership, release=release, data=_data(form)
                )
                messages.success(request, f"“{release.name}” saved.")
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            return redirect_after_post(
                request, "roadmap:release-detail", org_slug=org.slug, pk=release.pk
            )
    return render_form(
        request,
        form,
        page="roadmap/releases/form.html",
        partial="roadmap/releases/partials/_form.html",
        context={"release": release, "nav": "releases"},
    )


@require_http_methods(["GET", "POST"])
@org_view(Perm.RELEASE_MANAGE)
def release_create(request: HttpRequest) -> HttpResponse:
    return _release_form_page(request, None)


@require_http_methods(["GET", "POST"])
@org_view(Perm.RELEASE_MANAGE)
def release_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    release = selectors.release_get(org=org, pk=pk, can_manage=True)
    if release.status == ReleaseStatus.SHIPPED:
        messages.error(request, "This release has shipped; it can no longer be edited.")
        return redirect_after_post(request, "roadmap:release-detail", org_slug=org.slug, pk=pk)
    return _release_form_page(request, release)


@require_http_methods(["GET", "POST"])
@org_view(Perm.RELEASE_MANAGE)
def release_announce(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    release = selectors.release_get(org=org, pk=pk, can_manage=True)
    if release.status != ReleaseStatus.DRAFT:
        messages.info(request, "This release has already been announced to CS.")
        return redirect_after_post(request, "roadmap:release-detail", org_slug=org.slug, pk=pk)
    form = AnnounceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.release_announce(
                org=org,
                actor=membership,
                release=release,
                late_notice_reason=form.cleaned_data["late_notice_reason"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
            if set(error.field_errors) - {"late_notice_reason"}:
                # The brief is incomplete: that is fixed on the edit page, say so above.
                form.add_error(None, error.message)
        else:
            messages.success(request, f"“{release.name}” announced: every CSM has been told.")
            return redirect_after_post(request, "roadmap:release-detail", org_slug=org.slug, pk=pk)
    return render_form(
        request,
        form,
        page="roadmap/releases/announce.html",
        partial="roadmap/releases/partials/_announce_form.html",
        context={
            "release": release,
            "notice": _notice(release, services.org_today(org)),
            "missing_brief": services.release_brief_missing(release),
            "nav": "releases",
        },
    )


@require_http_methods(["GET", "POST"])
@org_view(Perm.RELEASE_MANAGE)
def release_ship(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    release = selectors.release_get(org=org, pk=pk, can_manage=True)
    if release.status == ReleaseStatus.SHIPPED:
        messages.info(request, "This release has already shipped; nobody is told twice.")
        return redirect_after_post(request, "roadmap:release-detail", org_slug=org.slug, pk=pk)
    form = ShipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.release_ship(org=org, actor=membership, release=release)
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            told = len(result.beta_csms) + len(result.other_csms)
            messages.success(
                request,
                f"“{release.name}” shipped: {len(result.items_shipped)} item"
                f"{'s' if len(result.items_shipped) != 1 else ''} and "
                f"{len(result.themes_shipped)} theme{'s' if len(result.themes_shipped) != 1 else ''} "
                f"marked shipped; {told} CSM{'s' if told != 1 else ''} told which accounts to tell"
                + (
                    f", beta participants' CSMs first ({len(result.beta_csms)})."
                    if result.beta_csms
                    else "."
                ),
            )
            return redirect_after_post(request, "roadmap:release-detail", org_slug=org.slug, pk=pk)
    items, _hidden = selectors.release_items(org=org, release=release, can_view_internal=True)
    return render_form(
        request,
        form,
        page="roadmap/releases/ship.html",
        partial="roadmap/releases/partials/_ship_form.html",
        context={"release": release, "items": items, "nav": "releases"},
    )


def _month(value: str | None, today: datetime.date) -> datetime.date:
    """``?month=YYYY-MM`` as the day the briefing of that month is built on (its first day,
    or today for the current month); anything unparseable or in the future means this month."""
    if value:
        try:
            first = datetime.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a month, not a moment
        except ValueError:
            return today
        if first <= today.replace(day=1):
            return today if first == today.replace(day=1) else first
    return today


@org_view()
def briefing(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    today = services.org_today(org)
    report = briefing_build(org=org, today=_month(request.GET.get("month"), today))
    return render(
        request,
        "roadmap/releases/briefing.html",
        {"briefing": report, "is_current": report.month == today.replace(day=1), "nav": "briefing"},
    )


urlpatterns = [
    path("releases/", release_list, name="release-list"),
    path("releases/new/", release_create, name="release-create"),
    path("releases/<int:pk>/", release_detail, name="release-detail"),
    path("releases/<int:pk>/edit/", release_edit, name="release-edit"),
    path("releases/<int:pk>/announce/", release_announce, name="release-announce"),
    path("releases/<int:pk>/ship/", release_ship, name="release-ship"),
    path("briefing/", briefing, name="briefing"),
]
