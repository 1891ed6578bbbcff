"""Backlog hygiene: the purge's dry-run preview, running it by hand, and restoring items."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_POST

from alignment.decorators import org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post
from alignment.permissions import Perm
from feedback import purge
from feedback.models import Theme, ThemeStatus

CONFIRM_FIELD = "confirm"


def _with_return_status(themes: list[Theme]) -> list[Theme]:
    """What each archived theme would come back as, for the "Returns as" column."""
    for theme in themes:
        theme.returns_as = purge.theme_restored_status(theme)  # type: ignore[attr-defined]
        theme.returns_as_label = ThemeStatus(theme.returns_as).label  # type: ignore[attr-defined]
    return themes


def _page_context(request: HttpRequest, **extra: object) -> dict:
    org = request.org  # type: ignore[attr-defined]
    themes = Paginator(purge.archived_themes(org=org), purge.ARCHIVE_LIMIT).get_page(
        request.GET.get("themes_page")
    )
    feedback = Paginator(purge.archived_feedback(org=org), purge.ARCHIVE_LIMIT).get_page(
        request.GET.get("feedback_page")
    )
    themes.object_list = _with_return_status(list(themes.object_list))
    return {
        "nav": "backlog",
        "preview": purge.backlog_purge_preview(org=org),
        "archived_themes": themes,
        "archived_feedback": feedback,
        "stale_months": purge.STALE_MONTHS,
        "statuses": dict(ThemeStatus.choices),
        "confirm_error": "",
        **extra,
    }


@org_view(Perm.BACKLOG_PURGE)
def backlog_hygiene(request: HttpRequest) -> HttpResponse:
    return render(request, "feedback/backlog/page.html", _page_context(request))


@require_POST
@org_view(Perm.BACKLOG_PURGE)
def backlog_purge_now(request: HttpRequest) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    if request.POST.get(CONFIRM_FIELD) != "yes":
        context = _page_context(
            request,
            confirm_error="Tick the box to confirm you reviewed the preview, then run it again.",
        )
        template = (
            "feedback/backlog/partials/_run.html" if request.htmx else "feedback/backlog/page.html"
        )  # type: ignore[attr-defined]
        return render(request, template, context, status=422)
    result = purge.backlog_purge_run(org=org, actor=me)
    if result.total:
        messages.success(
            request,
            f"Archived {len(result.theme_ids)} theme{'s' if len(result.theme_ids) != 1 else ''} "
            f"and {len(result.feedback_ids)} feedback item"
            f"{'s' if len(result.feedback_ids) != 1 else ''}; "
            f"{result.notified} CSM{'s' if result.notified != 1 else ''} told. "
            "Restore anything below if it still matters.",
        )
    else:
        messages.success(request, "Nothing is stale right now: nothing was archived.")
    return redirect_after_post(request, "feedback:backlog", org_slug=org.slug)


def _restored(request: HttpRequest, template: str, context: dict, message: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, template, context)
    messages.success(request, message)
    return redirect_after_post(request, "feedback:backlog", org_slug=org.slug)


def _restore_failed(request: HttpRequest, template: str, context: dict, error: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, template, {**context, "error": error}, status=422)
    messages.error(request, error)
    return redirect_after_post(request, "feedback:backlog", org_slug=org.slug)


@require_POST
@org_view(Perm.BACKLOG_PURGE)
def backlog_theme_restore(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    theme = get_object_or_404(purge.archived_themes(org=org), pk=pk)
    template = "feedback/backlog/partials/_archived_theme_row.html"
    try:
        theme = purge.theme_restore(org=org, actor=me, theme=theme)
    except ApplicationError as error:
        _with_return_status([theme])
        return _restore_failed(request, template, {"theme": theme}, error.message)
    return _restored(
        request,
        template,
        {"theme": theme, "restored": True},
        f"“{theme.title}” restored as {theme.get_status_display().lower()}.",
    )


@require_POST
@org_view(Perm.BACKLOG_PURGE)
def backlog_feedback_restore(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    item = get_object_or_404(purge.archived_feedback(org=org), pk=pk)
    template = "feedback/backlog/partials/_archived_feedback_row.html"
    try:
        item = purge.feedback_restore(org=org, actor=me, feedback=item)
    except ApplicationError as error:
        return _restore_failed(request, template, {"item": item}, error.message)
    return _restored(
        request,
        template,
        {"item": item, "restored": True},
        f"{item.account.name}'s feedback is back in the triage queue.",
    )


urlpatterns = [
    path("backlog/", backlog_hygiene, name="backlog"),
    path("backlog/run/", backlog_purge_now, name="backlog-run"),
    path("backlog/themes/<int:pk>/restore/", backlog_theme_restore, name="backlog-theme-restore"),
    path(
        "backlog/feedback/<int:pk>/restore/",
        backlog_feedback_restore,
        name="backlog-feedback-restore",
    ),
]
