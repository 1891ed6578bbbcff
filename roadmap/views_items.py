"""Roadmap pages: the board, an item with its linked demand, create/edit, sign-off, themes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_POST

from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post
from alignment.permissions import Perm
from feedback.models import Theme
from roadmap import selectors_commitments, selectors_items, services_items, wording
from roadmap.forms_items import BoardFilterForm, ItemForm, LinkThemeForm, SignOffForm
from roadmap.models import Delivery, RoadmapItem, Tier, Visibility


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _internal(request: HttpRequest) -> bool:
    return has_perm(request, Perm.ROADMAP_VIEW_INTERNAL)


def _raise_if_denied(error: ApplicationError) -> None:
    if error.code == "permission_denied":
        raise PermissionDenied(error.message)


# --- Board -----------------------------------------------------------------------------------


@org_view()
def board(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    internal = _internal(request)
    filters = BoardFilterForm(request.GET or None, org=org)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    columns = selectors_items.roadmap_board(
        org=org,
        internal=internal,
        area=cleaned.get("area"),
        include_done=bool(cleaned.get("done")),
    )
    context: dict[str, Any] = {
        "nav": "roadmap",
        "columns": columns,
        "filters": filters,
        "filtered": bool(cleaned.get("area") or cleaned.get("done")),
        "internal": internal,
        "can_edit": has_perm(request, Perm.ROADMAP_EDIT),
        "exploring_warning": wording.EXPLORING_WARNING,
        "total": sum(column.count for column in columns),
    }
    if _partial(request):
        return render(request, "roadmap/items/partials/_board.html", context)
    return render(request, "roadmap/items/board.html", context)


# --- One item --------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, item: RoadmapItem, **extra: Any) -> dict[str, Any]:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    internal = _internal(request)
    can_edit = has_perm(request, Perm.ROADMAP_EDIT)
    q = request.GET.get("q", "")
    return {
        "nav": "roadmap",
        "item": item,
        "internal": internal,
        "themes": list(selectors_items.item_linked_themes(org=org, item=item)),
        "top_accounts": selectors_items.item_top_accounts(org=org, item=item),
        "events": selectors_items.item_events(org=org, item=item) if internal else [],
        "commitments": selectors_commitments.commitments_for_item(org=org, item_id=item.pk),
        "can_edit": can_edit,
        "can_sign_off": services_items.roadmap_item_can_sign_off(actor=me, item=item),
        "can_request": has_perm(request, Perm.COMMITMENT_REQUEST)
        and item.delivery_status not in (Delivery.SHIPPED, Delivery.CANCELLED)
        and item.visibility != Visibility.INTERNAL,
        "q": q,
        "search_results": selectors_items.theme_search(org=org, item=item, q=q) if can_edit else [],
        "link_form": LinkThemeForm(org=org),
        **extra,
    }


@org_view()
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    item = selectors_items.roadmap_item_get(org=org, pk=pk, internal=_internal(request))
    return render(request, "roadmap/items/detail.html", _detail_context(request, item))


@org_view(Perm.ROADMAP_EDIT)
def item_create(request: HttpRequest) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    initial = {"pm": me.pk} if me.role in services_items.OWNER_ROLES else {}
    form = ItemForm(request.POST or None, org=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            item = services_items.roadmap_item_create(org=org, actor=me, data=form.item_data())
        except ApplicationError as error:
            _raise_if_denied(error)
            error.apply_to_form(form)
        else:
            messages.success(request, f"“{item.title}” is on the roadmap as {item.tier}.")
            return redirect_after_post(
                request, "roadmap:item-detail", org_slug=org.slug, pk=item.pk
            )
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "roadmap/items/form.html",
        {"nav": "roadmap", "form": form, "item": None},
        status=status,
    )


@org_view(Perm.ROADMAP_EDIT)
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    item = selectors_items.roadmap_item_for_edit(org=org, pk=pk)
    form = ItemForm(request.POST or None, org=org, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            item = services_items.roadmap_item_update(
                org=org, actor=me, item=item, data=form.item_data()
            )
        except ApplicationError as error:
            _raise_if_denied(error)
            error.apply_to_form(form)
        else:
            messages.success(request, f"“{item.title}” saved.")
            return redirect_after_post(request, "roadmap:item-detail", org_slug=org.slug, pk=pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "roadmap/items/form.html",
        {
            "nav": "roadmap",
            "form": form,
            "item": item,
            "approved_count": selectors_commitments.commitment_approved_count(
                org=org, item_id=item.pk
            ),
        },
        status=status,
    )


@org_view(Perm.ROADMAP_EDIT)
def item_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    item = selectors_items.roadmap_item_get(org=org, pk=pk, internal=True)
    if not services_items.roadmap_item_can_sign_off(actor=me, item=item):
        owner = item.pm.display_name if item.pm else "the owning PM"
        return render(
            request,
            "roadmap/items/sign_off.html",
            {
                "nav": "roadmap",
                "item": item,
                "denied": f"Only {owner} (the item's owning PM) or a Head of Product can sign "
                "this item off.",
            },
            status=403,
        )
    form = SignOffForm(request.POST or None, initial={"commit": item.tier != Tier.COMMITTED})
    if request.method == "POST" and form.is_valid():
        try:
            item = services_items.roadmap_item_sign_off(
                org=org,
                actor=me,
                item=item,
                note=form.cleaned_data["note"],
                commit=form.cleaned_data["commit"],
            )
        except ApplicationError as error:
            _raise_if_denied(error)
            error.apply_to_form(form)
        else:
            messages.success(
                request,
                f"Signed off “{item.title}”"
                + (
                    f": committed for {wording.quarter_label(item.target_quarter)}."
                    if item.tier == Tier.COMMITTED
                    else "."
                ),
            )
            return redirect_after_post(request, "roadmap:item-detail", org_slug=org.slug, pk=pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "roadmap/items/sign_off.html",
        {
            "nav": "roadmap",
            "item": item,
            "form": form,
            "ready": bool(item.dev_owner and item.target_quarter),
            "committed_sentence": wording.tier_sentence(Tier.COMMITTED, item.target_quarter)
            if item.target_quarter
            else "",
        },
        status=status,
    )


# --- Linked themes ---------------------------------------------------------------------------


@org_view(Perm.ROADMAP_EDIT)
def item_themes(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: theme search results (a fragment for htmx). POST: link the chosen theme."""
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    item = selectors_items.roadmap_item_get(org=org, pk=pk, internal=True)
    if request.method == "POST":
        form = LinkThemeForm(request.POST, org=org)
        if form.is_valid():
            theme = form.cleaned_data["theme"]
            try:
                services_items.roadmap_item_link_theme(org=org, actor=me, item=item, theme=theme)
            except ApplicationError as error:
                _raise_if_denied(error)
                error.apply_to_form(form)
            else:
                messages.success(
                    request,
                    f"“{theme.title}” is linked; its accounts now count towards this item.",
                )
                return redirect_after_post(request, "roadmap:item-detail", org_slug=org.slug, pk=pk)
        context = _detail_context(request, item, link_form=form)
        return render(request, "roadmap/items/detail.html", context, status=422)
    q = request.GET.get("q", "")
    context = {
        "item": item,
        "q": q,
        "search_results": selectors_items.theme_search(org=org, item=item, q=q),
    }
    if _partial(request):
        return render(request, "roadmap/items/partials/_theme_results.html", context)
    return render(request, "roadmap/items/detail.html", _detail_context(request, item))


@require_POST
@org_view(Perm.ROADMAP_EDIT)
def item_theme_unlink(request: HttpRequest, pk: int, theme_pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    item = selectors_items.roadmap_item_get(org=org, pk=pk, internal=True)
    theme = get_object_or_404(Theme.objects.for_org(org).filter(roadmap_item=item), pk=theme_pk)
    try:
        services_items.roadmap_item_unlink_theme(org=org, actor=me, item=item, theme=theme)
    except ApplicationError as error:
        _raise_if_denied(error)
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{theme.title}” is no longer linked to this item.")
    return redirect_after_post(request, "roadmap:item-detail", org_slug=org.slug, pk=pk)


urlpatterns = [
    path("roadmap/", board, name="board"),
    path("roadmap/items/new/", item_create, name="item-create"),
    path("roadmap/items/<int:pk>/", item_detail, name="item-detail"),
    path("roadmap/items/<int:pk>/edit/", item_edit, name="item-edit"),
    path("roadmap/items/<int:pk>/sign-off/", item_sign_off, name="item-sign-off"),
    path("roadmap/items/<int:pk>/themes/", item_themes, name="item-themes"),
    path(
        "roadmap/items/<int:pk>/themes/<int:theme_pk>/unlink/",
        item_theme_unlink,
        name="item-theme-unlink",
    ),
]
