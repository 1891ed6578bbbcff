"""Capturing feedback (CSMs log what a customer said) and editing its categories (CS Ops)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post
from alignment.permissions import Perm
from feedback import selectors_capture as selectors
from feedback import services, services_categories
from feedback.forms import CategoryForm, FeedbackLogForm
from feedback.models import Category


def _picked(request: HttpRequest, form: FeedbackLogForm) -> dict[str, object]:
    """What the pickers show: the chosen account and theme, read back from the form's data."""
    org = request.org  # type: ignore[attr-defined]
    source = form.data if form.is_bound else form.initial
    return {
        "chosen_account": selectors.account_for_pick(org=org, pk=source.get("account")),
        "chosen_theme": selectors.open_theme_for_pick(org=org, pk=source.get("theme")),
    }


@org_view()
def feedback_log(request: HttpRequest) -> HttpResponse:
    """Log what a customer said; its triage clock starts now."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    services.categories_ensure_defaults(org=org)
    initial = {"account": request.GET.get("account", ""), "theme": request.GET.get("theme", "")}
    form = FeedbackLogForm(request.POST or None, org=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            feedback = services.feedback_log(
                org=org,
                actor=membership,
                account=data["account"],
                verbatim=data["verbatim"],
                job_to_be_done=data["job_to_be_done"],
                workaround=data["workaround"],
                source=data["source"],
                product_area=data["product_area"],
                category=data["category"],
                urgency=data["urgency"],
                answer_needed_by=data["answer_needed_by"],
                theme=data["theme"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            if data["theme"] is not None:
                messages.success(
                    request,
                    f"Logged for {feedback.account.name} and added to “{data['theme'].title}”.",
                )
            else:
                days = org.triage_sla_days
                messages.success(
                    request,
                    f"Logged for {feedback.account.name}. Product has {days} business "
                    f"day{'s' if days != 1 else ''} to triage it.",
                )
            return redirect_after_post(request, "feedback:my-feedback", org_slug=org.slug)
    context = {"form": form, "nav": "feedback_log", **_picked(request, form)}
    if request.method == "POST" and form.errors:
        context["similar_themes"] = selectors.similar_themes(
            org=org, q=form.data.get("verbatim", "")
        )
    if request.htmx and request.method == "POST":
        return render(
            request,
            "feedback/capture/partials/_form.html",
            context,
            status=422 if form.errors else 200,
        )
    return render(request, "feedback/capture/log.html", context, status=200)


@org_view()
def account_search(request: HttpRequest) -> HttpResponse:
    """Type-ahead for the account picker; ``?pick=<id>`` returns the chosen-account block."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    if "pick" in request.GET:
        account = selectors.account_for_pick(org=org, pk=request.GET["pick"])
        return render(
            request, "feedback/capture/partials/_account_picker.html", {"chosen_account": account}
        )
    q = request.GET.get("q", request.GET.get("account_q", ""))
    accounts = selectors.account_search(org=org, csm=membership, q=q)
    return render(
        request,
        "feedback/capture/partials/_account_results.html",
        {"accounts": accounts, "q": q, "membership": membership},
    )


@org_view()
def similar(request: HttpRequest) -> HttpResponse:
    """Open themes and recent feedback that look like the verbatim being typed.

    ``?attach=<theme id>`` returns the "will be added to" block (empty id: undo)."""
    org = request.org  # type: ignore[attr-defined]
    if "attach" in request.GET:
        theme = selectors.open_theme_for_pick(org=org, pk=request.GET["attach"])
        return render(
            request, "feedback/capture/partials/_theme_choice.html", {"chosen_theme": theme}
        )
    q = request.GET.get("q", request.GET.get("verbatim", ""))
    return render(
        request,
        "feedback/capture/partials/_similar.html",
        {
            "q": q,
            "similar_themes": selectors.similar_themes(org=org, q=q),
            "similar_feedback": selectors.similar_feedback(org=org, q=q),
        },
    )


# --- categories --------------------------------------------------------------------------------


@org_view()
def category_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    services.categories_ensure_defaults(org=org)
    return render(
        request,
        "feedback/categories/list.html",
        {
            "categories": selectors.category_list(org=org),
            "can_edit": has_perm(request, Perm.PRODUCT_AREA_EDIT),
            "nav": "categories",
        },
    )


def _category_form_page(request: HttpRequest, category: Category | None) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    initial = (
        {
            "name": category.name,
            "description": category.description,
            "position": category.position,
        }
        if category
        else None
    )
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if category is None:
                category = services_categories.category_create(
                    org=org,
                    actor=membership,
                    name=data["name"],
                    description=data["description"],
                    position=data["position"],
                )
                messages.success(request, f"Category “{category.name}” created.")
            else:
                services_categories.category_update(
                    org=org,
                    actor=membership,
                    category=category,
                    name=data["name"],
                    description=data["description"],
                    position=data["position"],
                )
                messages.success(request, f"Category “{category.name}” saved.")
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            return redirect_after_post(request, "feedback:category-list", org_slug=org.slug)
    template = (
        "feedback/categories/partials/_form.html"
        if request.htmx
        else "feedback/categories/form.html"
    )
    return render(
        request,
        template,
        {"form": form, "category": category, "nav": "categories"},
        status=422 if form.errors and request.htmx else 200,
    )


@org_view(Perm.PRODUCT_AREA_EDIT)
def category_create(request: HttpRequest) -> HttpResponse:
    return _category_form_page(request, None)


@org_view(Perm.PRODUCT_AREA_EDIT)
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(Category.objects.for_org(request.org), pk=pk)  # type: ignore[attr-defined]
    return _category_form_page(request, category)


@require_POST
@org_view(Perm.PRODUCT_AREA_EDIT)
def category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    category = get_object_or_404(Category.objects.for_org(org), pk=pk)
    name = category.name
    try:
        cleared = services_categories.category_delete(
            org=org,
            actor=request.membership,  # type: ignore[attr-defined]
            category=category,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("feedback:category-edit", org_slug=org.slug, pk=pk)
    if cleared:
        messages.success(
            request,
            f"Category “{name}” deleted; {cleared} feedback item"
            f"{'s' if cleared != 1 else ''} now {'have' if cleared != 1 else 'has'} no category.",
        )
    else:
        messages.success(request, f"Category “{name}” deleted.")
    return redirect("feedback:category-list", org_slug=org.slug)


urlpatterns = [
    path("feedback/new/", feedback_log, name="feedback-log"),
    path("feedback/account-search/", account_search, name="feedback-account-search"),
    path("feedback/similar/", similar, name="feedback-similar"),
    path("categories/", category_list, name="category-list"),
    path("categories/new/", category_create, name="category-create"),
    path("categories/<int:pk>/edit/", category_edit, name="category-edit"),
    path("categories/<int:pk>/delete/", category_delete, name="category-delete"),
]
