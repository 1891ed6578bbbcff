"""The CSV import of historical feedback: upload, progress, report, rejected rows, sample."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from alignment.decorators import org_view
from alignment.errors import ApplicationError
from alignment.forms_accounts import AccountImportForm as CsvUploadForm
from alignment.http import rejected_rows_download, sample_csv_download
from alignment.permissions import Perm
from feedback import services_import as imports

SAMPLE_CSV = settings.BASE_DIR / "examples" / "feedback.csv"


def _partial(request: HttpRequest) -> bool:
    """An htmx swap wants the fragment; a boosted or history-restore request the full page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


@org_view(Perm.FEEDBACK_IMPORT)
def feedback_import(request: HttpRequest) -> HttpResponse:
    org, me = request.org, request.membership  # type: ignore[attr-defined]
    # Bound on every POST: a file-only upload has an empty request.POST.
    posted = request.method == "POST"
    form = CsvUploadForm(request.POST, request.FILES) if posted else CsvUploadForm()
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.feedback_import_start(
                org=org, actor=me, filename=upload.name or "", content=upload.read()
            )
        except ApplicationError as error:
            if error.code == "permission_denied":
                raise PermissionDenied(error.message) from error
            form.add_error("file", error.message)
        else:
            messages.success(request, f"{job.filename} uploaded: {job.total_rows} rows to import.")
            ignored = imports.feedback_import_ignored_columns(job=job)
            if ignored:
                messages.warning(
                    request,
                    "These columns are not ones Seam knows and were ignored: " + ", ".join(ignored),
                )
            return redirect("feedback:feedback-import-status", org_slug=org.slug, pk=job.pk)
    return render(
        request,
        "feedback/import/upload.html",
        {
            "nav": "feedback_import",
            "form": form,
            "recent": imports.feedback_import_list(org=org),
            "max_mb": settings.SEAM_IMPORT_MAX_BYTES / (1024 * 1024),
        },
    )


@org_view(Perm.FEEDBACK_IMPORT)
def feedback_import_status(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    job = imports.feedback_import_get(org=org, pk=pk)
    context = {
        "nav": "feedback_import",
        "job": job,
        "summary": imports.feedback_import_summary(job),
    }
    if _partial(request):
        return render(request, "feedback/import/partials/_progress.html", context)
    return render(request, "feedback/import/status.html", context)


@org_view(Perm.FEEDBACK_IMPORT)
def feedback_import_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    job = imports.feedback_import_get(org=org, pk=pk, with_content=True)
    if not job.error_count:
        raise Http404("This import rejected no rows.")
    return rejected_rows_download(
        imports.feedback_import_rejected_csv(job=job),
        uploaded_name=job.filename,
        fallback_stem="feedback",
    )


@org_view(Perm.FEEDBACK_IMPORT)
def feedback_import_sample(request: HttpRequest) -> HttpResponse:
    return sample_csv_download(SAMPLE_CSV, filename="seam-feedback-sample.csv")


urlpatterns = [
    path("feedback/import/", feedback_import, name="feedback-import"),
    path("feedback/import/sample.csv", feedback_import_sample, name="feedback-import-sample"),
    path("feedback/import/<int:pk>/", feedback_import_status, name="feedback-import-status"),
    path(
        "feedback/import/<int:pk>/rejected.csv",
        feedback_import_rejected,
        name="feedback-import-rejected",
    ),
]
