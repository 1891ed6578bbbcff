"""Product areas: the taxonomy feedback is filed under, each with its owning PM."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from alignment import selectors
from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.forms import ProductAreaForm
from alignment.http import redirect_after_post
from alignment.models import ProductArea
from alignment.permissions import Perm
from alignment.services import organizations as services


@org_view()
def product_area_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    return render(
        request,
        "alignment/product_areas/list.html",
        {
            "areas": selectors.product_area_list(org=org),
            "can_edit": has_perm(request, Perm.PRODUCT_AREA_EDIT),
            "nav": "product_areas",
        },
    )


def _form_page(request: HttpRequest, area: ProductArea | None) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    initial = (
        {"name": area.name, "description": area.description, "pm": area.pm_id} if area else None
    )
    form = ProductAreaForm(request.POST or None, org=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if area is None:
                area = services.product_area_create(
                    org=org,
                    actor=membership,
                    name=data["name"],
                    description=data["description"],
                    pm=data["pm"],
                )
                messages.success(request, f"Product area “{area.name}” created.")
            else:
                services.product_area_update(
                    org=org,
                    actor=membership,
                    area=area,
                    name=data["name"],
                    description=data["description"],
                    pm=data["pm"],
                )
                messages.success(request, f"Product area “{area.name}” saved.")
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            return redirect_after_post(request, "alignment:product-area-list", org_slug=org.slug)
    template = (
        "alignment/product_areas/partials/_form.html"
        if request.htmx
        else "alignment/product_areas/form.html"
    )
    return render(
        request,
        template,
        {"form": form, "area": area, "nav": "product_areas"},
        status=422 if form.errors and request.htmx else 200,
    )


@org_view(Perm.PRODUCT_AREA_EDIT)
def product_area_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@org_view(Perm.PRODUCT_AREA_EDIT)
def product_area_edit(request: HttpRequest, pk: int) -> HttpResponse:
    area = get_object_or_404(ProductArea.objects.for_org(request.org), pk=pk)  # type: ignore[attr-defined]
    return _form_page(request, area)


@require_POST
@org_view(Perm.PRODUCT_AREA_EDIT)
def product_area_delete(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    area = get_object_or_404(ProductArea.objects.for_org(org), pk=pk)
    try:
        services.product_area_delete(org=org, actor=request.membership, area=area)  # type: ignore[attr-defined]
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("alignment:product-area-edit", org_slug=org.slug, pk=pk)
    messages.success(request, f"Product area “{area.name}” deleted.")
    return redirect("alignment:product-area-list", org_slug=org.slug)


urlpatterns = [
    path("product-areas/", product_area_list, name="product-area-list"),
    path("product-areas/new/", product_area_create, name="product-area-create"),
    path("product-areas/<int:pk>/edit/", product_area_edit, name="product-area-edit"),
    path("product-areas/<int:pk>/delete/", product_area_delete, name="product-area-delete"),
]
