"""Account pages: list, detail, create and edit, and the CSV import with its report."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from alignment import selectors_accounts as selectors
from alignment.decorators import has_perm, org_view
from alignment.errors import ApplicationError
from alignment.forms_accounts import AccountFilterForm, AccountForm, AccountImportForm
from alignment.http import rejected_rows_download, sample_csv_download
from alignment.models import Role
from alignment.permissions import Perm
from alignment.services import imports
from alignment.services.accounts import (
    account_can_edit,
    account_can_reassign,
    account_create,
    account_update,
)
from roadmap.selectors_commitments import commitments_for_account
from roadmap.selectors_items import roadmap_items_for_account
from roadmap.services_commitments import commitment_can_request_for

PAGE_SIZE = 50
RENEWAL_SOON_DAYS = 90
SAMPLE_CSV = settings.BASE_DIR / "examples" / "accounts.csv"


def _partial(request: HttpRequest) -> bool:
    """An htmx swap wants the fragment; a boosted or history-restore request the full page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _raise_if_denied(error: ApplicationError) -> None:
    if error.code == "permission_denied":
        raise PermissionDenied(error.message)


# --- List ------------------------------------------------------------------------------------


@org_view(Perm.VIEW)
def account_list(request: HttpRequest) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    csms = list(selectors.csm_choices(org=org))
    filters = AccountFilterForm(request.GET or None, csms=csms, me=me)
    sort = filters.sort_key
    accounts = selectors.account_list(
        org=org,
        q=filters.value("q"),
        segment=filters.value("segment"),
        lifecycle_stage=filters.value("stage"),
        csm=filters.value("csm"),
        sort=sort,
    )
    totals = selectors.account_list_totals(accounts)
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate(timezone=org.tzinfo)
    for account in page.object_list:
        if account.renewal_date is not None:
            account.days_to_renewal = (account.renewal_date - today).days
    filtered = any(filters.value(name) for name in ("q", "segment", "stage", "csm"))
    context: dict[str, Any] = {
        "nav": "accounts",
        "filters": filters,
        "page": page,
        "totals": totals,
        "sort": sort,
        "filtered": filtered,
        "org_has_accounts": bool(totals["count"]) or selectors.account_exists(org=org),
        "renewal_soon_days": RENEWAL_SOON_DAYS,
        "is_csm": me.role == Role.CSM,
        "can_create": has_perm(request, Perm.ACCOUNT_EDIT),
        "can_import": has_perm(request, Perm.ACCOUNT_IMPORT),
        "is_htmx": _partial(request),
    }
    if _partial(request):
        return render(request, "alignment/accounts/partials/_account_results.html", context)
    return render(request, "alignment/accounts/list.html", context)


# --- Detail ----------------------------------------------------------------------------------


@org_view(Perm.VIEW)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    account = selectors.account_get(org=org, pk=pk)
    today = timezone.localdate(timezone=org.tzinfo)
    days = (account.renewal_date - today).days if account.renewal_date else None
    internal = has_perm(request, Perm.ROADMAP_VIEW_INTERNAL)
    return render(
        request,
        "alignment/accounts/detail.html",
        {
            "nav": "accounts",
            "account": account,
            "days_to_renewal": days,
            "renewal_soon_days": RENEWAL_SOON_DAYS,
            "history": selectors.account_history(org=org, account=account),
            "can_edit": account_can_edit(actor=me, account=account),
            # The roadmap and promises sections (roadmap app): two queries, whatever the size.
            "account_roadmap": roadmap_items_for_account(
                org=org, account=account, internal=internal
            ),
            "internal_roadmap": internal,
            "promises": commitments_for_account(org=org, account=account),
            "can_request_commitment": commitment_can_request_for(actor=me, account=account),
        },
    )


# --- Create and edit -------------------------------------------------------------------------


@org_view(Perm.ACCOUNT_EDIT)
def account_create_view(request: HttpRequest) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    can_reassign = account_can_reassign(actor=me)
    data = request.POST if request.method == "POST" else None
    form = AccountForm(data, org=org, can_reassign=can_reassign)
    if request.method == "POST" and form.is_valid():
        try:
            account = account_create(org=org, actor=me, **form.service_fields())
        except ApplicationError as error:
            _raise_if_denied(error)
            error.apply_to_form(form)
        else:
            messages.success(request, f"Account {account.name} created.")
            return redirect("alignment:account-detail", org_slug=org.slug, pk=account.pk)
    return render(
        request,
        "alignment/accounts/form.html",
        {"nav": "accounts", "form": form, "account": None, "can_reassign": can_reassign},
    )


@org_view(Perm.ACCOUNT_EDIT)
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    account = selectors.account_get(org=org, pk=pk)
    if not account_can_edit(actor=me, account=account):
        raise PermissionDenied("You can edit only the accounts you own.")
    can_reassign = account_can_reassign(actor=me)
    stored_name = account.name
    data = request.POST if request.method == "POST" else None
    form = AccountForm(data, instance=account, org=org, can_reassign=can_reassign)
    if request.method == "POST" and form.is_valid():
        try:
            updated = account_update(org=org, actor=me, account=account, **form.service_fields())
        except ApplicationError as error:
            _raise_if_denied(error)
            error.apply_to_form(form)
        else:
            messages.success(request, f"Account {updated.name} saved.")
            return redirect("alignment:account-detail", org_slug=org.slug, pk=updated.pk)
    return render(
        request,
        "alignment/accounts/form.html",
        {
            "nav": "accounts",
            "form": form,
            "account": account,
            "stored_name": stored_name,
            "can_reassign": can_reassign,
        },
    )


# --- CSV import ------------------------------------------------------------------------------


@org_view(Perm.ACCOUNT_IMPORT)
def account_import(request: HttpRequest) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    # Bound on every POST: a file-only upload has an empty request.POST.
    posted = request.method == "POST"
    form = AccountImportForm(request.POST, request.FILES) if posted else AccountImportForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.account_import_start(
                org=org, actor=me, filename=upload.name or "", content=upload.read()
            )
        except ApplicationError as error:
            _raise_if_denied(error)
            form.add_error("file", error.message)
        else:
            messages.success(request, f"{job.filename} uploaded: {job.total_rows} rows to import.")
            ignored = imports.import_ignored_columns(job=job)
            if ignored:
                messages.warning(
                    request,
                    "These columns are not ones Seam knows and were ignored: " + ", ".join(ignored),
                )
            return redirect("alignment:account-import-status", org_slug=org.slug, pk=job.pk)
    return render(
        request,
        "alignment/accounts/import.html",
        {
            "nav": "accounts",
            "form": form,
            "recent": selectors.account_import_list(org=org),
            "max_mb": settings.SEAM_IMPORT_MAX_BYTES / (1024 * 1024),
        },
    )


@org_view(Perm.ACCOUNT_IMPORT)
def account_import_status(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    job = selectors.account_import_get(org=org, pk=pk)
    context = {"nav": "accounts", "job": job, "summary": selectors.import_summary(job)}
    if _partial(request):
        return render(request, "alignment/accounts/partials/_import_progress.html", context)
    return render(request, "alignment/accounts/import_status.html", context)


@org_view(Perm.ACCOUNT_IMPORT)
def account_import_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    job = selectors.account_import_get(org=org, pk=pk, with_content=True)
    if not job.errors:
        raise Http404("This import rejected no rows.")
    return rejected_rows_download(
        imports.import_rejected_rows_csv(job=job),
        uploaded_name=job.filename,
        fallback_stem="accounts",
    )


@org_view(Perm.ACCOUNT_IMPORT)
def account_import_sample(request: HttpRequest) -> HttpResponse:
    return sample_csv_download(SAMPLE_CSV, filename="seam-accounts-sample.csv")


urlpatterns = [
    path("accounts/", account_list, name="account-list"),
    path("accounts/new/", account_create_view, name="account-create"),
    path("accounts/<int:pk>/", account_detail, name="account-detail"),
    path("accounts/<int:pk>/edit/", account_edit, name="account-edit"),
    path("accounts/import/", account_import, name="account-import"),
    path("accounts/import/sample.csv", account_import_sample, name="account-import-sample"),
    path("accounts/import/<int:pk>/", account_import_status, name="account-import-status"),
    path(
        "accounts/import/<int:pk>/rejected.csv",
        account_import_rejected,
        name="account-import-rejected",
    ),
]
