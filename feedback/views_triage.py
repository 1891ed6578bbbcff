"""The PM's triage queue, the theme board and the theme page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post
from alignment.paging import CappedPaginator
from alignment.permissions import Perm
from alignment.templatetags.seam import money
from feedback import selectors_triage as selectors
from feedback import services
from feedback.forms_triage import AttachForm, BoardFilterForm, MergeForm, NewThemeForm, StatusForm
from feedback.models import Feedback, Theme, ThemeStatus

PAGE_SIZE = 25
ROW_DEFAULTS: dict[str, object] = {"error": "", "posted": None, "new_errors": {}}
POSTED_FIELDS = ("title", "status", "not_planned_reason", "roadmap_item")


def can_triage(request: HttpRequest) -> bool:
    return has_perm(request, Perm.FEEDBACK_TRIAGE)


def _require_triager(request: HttpRequest) -> None:
    if not can_triage(request):
        raise PermissionDenied("Only PMs, the Head of Product and admins triage feedback.")


def breakdown_title(breakdown: dict, currency: str) -> str:
    """The impact breakdown as one line per account, for a ``title`` tooltip."""
    lines = []
    for line in (breakdown or {}).get("accounts", []):
        text = f"{line['name']}: {money(line['arr'], currency)} \u00d7 {line['multiplier']}"
        if line.get("reason"):
            text += f" ({line['reason']})"
        lines.append(text)
    if breakdown and breakdown.get("account_component"):
        lines.append(f"Accounts component: {breakdown['account_component']}")
    return "\n".join(lines) or "No accounts yet."


def _title_from(verbatim: str, words: int = 8) -> str:
    parts = verbatim.split()
    title = " ".join(parts[:words])
    return (title + "…" if len(parts) > words else title)[:200]


def _decorate(items: list[Feedback], org) -> None:  # type: ignore[no-untyped-def]
    calendar, now = services.calendar_for(org), timezone.now()
    for item in items:
        item.sla = calendar.describe(item.due_at, now)
        item.impact_title = breakdown_title(item.impact_breakdown, org.currency)
        item.suggested_title = _title_from(item.verbatim)


def _row_context(request: HttpRequest, item: Feedback, **extra: object) -> dict:
    org = request.org  # type: ignore[attr-defined]
    _decorate([item], org)
    themes = list(selectors.open_themes(org=org))
    item.theme_groups = selectors.theme_choices_for(themes, item.product_area_id)
    return {
        "item": item,
        "roadmap_items": list(selectors.roadmap_items(org=org)),
        "statuses": services_statuses(),
        "can_triage": True,
        **ROW_DEFAULTS,
        **extra,
    }


def services_statuses() -> list[tuple[str, str]]:
    return [
        (ThemeStatus.UNDER_REVIEW, ThemeStatus.UNDER_REVIEW.label),
        (ThemeStatus.NOT_PLANNED, ThemeStatus.NOT_PLANNED.label),
        (ThemeStatus.ON_ROADMAP, ThemeStatus.ON_ROADMAP.label),
    ]


@org_view()
def triage_queue(request: HttpRequest) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    my_areas = selectors.product_areas_of(org=org, pm=membership)
    scope = "all" if request.GET.get("scope") == "all" or not my_areas else "mine"
    rows = selectors.triage_queue(org=org, area_ids=my_areas if scope == "mine" else None)
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    _decorate(items, org)
    themes = list(selectors.open_themes(org=org))
    for item in items:
        item.theme_groups = selectors.theme_choices_for(themes, item.product_area_id)
    return render(
        request,
        "feedback/triage/queue.html",
        {
            "page": page,
            "items": items,
            "scope": scope,
            "owns_areas": bool(my_areas),
            "statuses": services_statuses(),
            "can_triage": can_triage(request),
            "nav": "triage",
            **ROW_DEFAULTS,
        },
    )


def _queue_feedback(request: HttpRequest, pk: int) -> Feedback:
    org = request.org  # type: ignore[attr-defined]
    return get_object_or_404(
        Feedback.objects.for_org(org).select_related(
            "account", "product_area", "category", "logged_by__user", "theme"
        ),
        pk=pk,
    )


def _triaged(request: HttpRequest, item: Feedback, theme: Theme) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request, "feedback/triage/partials/_triaged_row.html", {"item": item, "theme": theme}
        )
    messages.success(request, f"Triaged {item.account.name}'s feedback into “{theme.title}”.")
    return redirect_after_post(request, "feedback:triage-queue", org_slug=org.slug)


def _row_error(request: HttpRequest, item: Feedback, message: str, **extra: object) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    if request.htmx:  # type: ignore[attr-defined]
        context = _row_context(request, item, error=message, **extra)
        return render(request, "feedback/triage/partials/_row.html", context, status=422)
    messages.error(request, message)
    return redirect_after_post(request, "feedback:triage-queue", org_slug=org.slug)


def _posted(request: HttpRequest) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in POSTED_FIELDS}


def _first_error(form) -> str:  # type: ignore[no-untyped-def]
    for errors in form.errors.values():
        return str(errors[0])
    return "Check the form."


@require_POST
@org_view()
def triage_attach(request: HttpRequest, pk: int) -> HttpResponse:
    _require_triager(request)
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    item = _queue_feedback(request, pk)
    form = AttachForm(request.POST, org=org)
    if not form.is_valid():
        return _row_error(request, item, _first_error(form))
    theme = form.cleaned_data["theme"]
    try:
        services.feedback_triage(org=org, actor=membership, feedback=item, theme=theme)
    except ApplicationError as error:
        return _row_error(request, item, error.message)
    return _triaged(request, item, theme)


@org_view()
def triage_new_theme(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the "New theme" form of one queue row (loaded when the row's form is opened; a
    page of its own without JavaScript). POST: create the theme and triage into it."""
    _require_triager(request)
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    item = _queue_feedback(request, pk)
    if request.method != "POST":
        _decorate([item], org)
        context = {
            "item": item,
            "roadmap_items": list(selectors.roadmap_items(org=org)),
            "statuses": services_statuses(),
            "nav": "triage",
            **ROW_DEFAULTS,
        }
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "feedback/triage/partials/_new_theme_form.html", context)
        return render(request, "feedback/triage/new_theme.html", context)
    form = NewThemeForm(request.POST, org=org)
    if not form.is_valid():
        return _row_error(
            request, item, _first_error(form), new_errors=form.errors, posted=_posted(request)
        )
    data = form.cleaned_data
    try:
        item = services.feedback_triage(
            org=org,
            actor=membership,
            feedback=item,
            new_theme=services.NewTheme(
                title=data["title"],
                status=data["status"],
                description=data["description"],
                product_area=data["product_area"] or item.product_area,
                category=data["category"] or item.category,
                not_planned_reason=data["not_planned_reason"],
                roadmap_item=data["roadmap_item"],
            ),
        )
    except ApplicationError as error:
        return _row_error(request, item, error.message, posted=_posted(request))
    return _triaged(request, item, item.theme)


@require_POST
@org_view()
def triage_undo(request: HttpRequest, pk: int) -> HttpResponse:
    _require_triager(request)
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    item = _queue_feedback(request, pk)
    services.feedback_detach(org=org, actor=membership, feedback=item)
    item = _queue_feedback(request, pk)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "feedback/triage/partials/_row.html", _row_context(request, item))
    messages.success(request, f"{item.account.name}'s feedback is back in the queue.")
    return redirect_after_post(request, "feedback:triage-queue", org_slug=org.slug)


@org_view()
def theme_board(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    filters = BoardFilterForm(request.GET or None, org=org)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    area, category = cleaned.get("area"), cleaned.get("category")
    themes = selectors.theme_board(
        org=org,
        area=str(area.pk) if area else "",
        status=cleaned.get("status", ""),
        category=str(category.pk) if category else "",
    )
    page = CappedPaginator(themes, PAGE_SIZE).get_page(request.GET.get("page"))
    for theme in page.object_list:
        theme.impact_title = breakdown_title(theme.impact_breakdown, org.currency)
    context = {
        "page": page,
        "filters": filters,
        "filtered": bool(area or category or cleaned.get("status")),
        "can_triage": can_triage(request),
        "nav": "themes",
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "feedback/themes/partials/_board_results.html", context)
    return render(request, "feedback/themes/board.html", context)


@org_view()
def theme_new(request: HttpRequest) -> HttpResponse:
    _require_triager(request)
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    form = NewThemeForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            theme = services.theme_create(
                org=org,
                actor=membership,
                data=services.NewTheme(
                    title=data["title"],
                    status=data["status"],
                    description=data["description"],
                    product_area=data["product_area"],
                    category=data["category"],
                    not_planned_reason=data["not_planned_reason"],
                    roadmap_item=data["roadmap_item"],
                ),
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            messages.success(request, f"Theme “{theme.title}” created.")
            return redirect_after_post(
                request, "feedback:theme-detail", org_slug=org.slug, pk=theme.pk
            )
    status = 422 if request.method == "POST" else 200
    return render(
        request, "feedback/themes/new.html", {"form": form, "nav": "themes"}, status=status
    )


def _theme_page(
    request: HttpRequest,
    theme: Theme,
    *,
    status_form: StatusForm | None = None,
    merge_form: MergeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    feedback = list(selectors.theme_feedback(org=org, theme=theme))
    events = list(selectors.theme_events(org=org, theme=theme))
    triager = can_triage(request)
    is_open = not theme.merged_into_id
    context = {
        "theme": theme,
        "wording": services.customer_wording(theme.status, theme.not_planned_reason),
        "breakdown": theme.impact_breakdown or {},
        "impact_title": breakdown_title(theme.impact_breakdown, org.currency),
        "feedback": feedback,
        "events": events,
        "can_triage": triager and is_open,
        "status_form": status_form
        or StatusForm(
            org=org,
            initial={
                "status": theme.status,
                "not_planned_reason": theme.not_planned_reason,
                "roadmap_item": theme.roadmap_item_id,
            },
        ),
        "merge_form": merge_form or MergeForm(org=org, theme=theme),
        "nav": "themes",
    }
    return render(request, "feedback/themes/detail.html", context, status=status)


def _theme(request: HttpRequest, pk: int) -> Theme:
    return get_object_or_404(selectors.theme_detail(org=request.org), pk=pk)  # type: ignore[attr-defined]


@org_view()
def theme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _theme_page(request, _theme(request, pk))


@require_POST
@org_view()
def theme_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require_triager(request)
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    theme = _theme(request, pk)
    form = StatusForm(request.POST, org=org)
    if form.is_valid():
        data = form.cleaned_data
        try:
            theme = services.theme_set_status(
                org=org,
                actor=membership,
                theme=theme,
                status=data["status"],
                reason=data["not_planned_reason"],
                roadmap_item=data["roadmap_item"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            messages.success(
                request,
                f"“{theme.title}” is now {theme.get_status_display().lower()}; "
                "the CSMs with feedback in it were told.",
            )
            return redirect_after_post(request, "feedback:theme-detail", org_slug=org.slug, pk=pk)
    return _theme_page(request, theme, status_form=form, status=422)


@require_POST
@org_view()
def theme_merge(request: HttpRequest, pk: int) -> HttpResponse:
    _require_triager(request)
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    theme = _theme(request, pk)
    form = MergeForm(request.POST, org=org, theme=theme)
    if form.is_valid():
        target = form.cleaned_data["target"]
        try:
            services.theme_merge(org=org, actor=membership, source=theme, target=target)
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            messages.success(request, f"“{theme.title}” was merged into “{target.title}”.")
            return redirect_after_post(
                request, "feedback:theme-detail", org_slug=org.slug, pk=target.pk
            )
    return _theme_page(request, theme, merge_form=form, status=422)


@require_POST
@org_view()
def theme_detach(request: HttpRequest, pk: int, feedback_pk: int) -> HttpResponse:
    _require_triager(request)
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    theme = _theme(request, pk)
    item = get_object_or_404(
        Feedback.objects.for_org(org).filter(theme=theme).select_related("account"),
        pk=feedback_pk,
    )
    services.feedback_detach(org=org, actor=membership, feedback=item)
    messages.success(
        request, f"{item.account.name}'s feedback was taken out and is back in the triage queue."
    )
    return redirect_after_post(request, "feedback:theme-detail", org_slug=org.slug, pk=pk)


urlpatterns = [
    path("triage/", triage_queue, name="triage-queue"),
    path("triage/<int:pk>/attach/", triage_attach, name="triage-attach"),
    path("triage/<int:pk>/new-theme/", triage_new_theme, name="triage-new-theme"),
    path("triage/<int:pk>/undo/", triage_undo, name="triage-undo"),
    path("themes/", theme_board, name="theme-board"),
    path("themes/new/", theme_new, name="theme-new"),
    path("themes/<int:pk>/", theme_detail, name="theme-detail"),
    path("themes/<int:pk>/status/", theme_status, name="theme-status"),
    path("themes/<int:pk>/merge/", theme_merge, name="theme-merge"),
    path("themes/<int:pk>/detach/<int:feedback_pk>/", theme_detach, name="theme-detach"),
]
