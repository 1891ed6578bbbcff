"""Response helpers shared by views."""

from pathlib import Path
from typing import Any

from django.forms import Form
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect


def redirect_after_post(request: HttpRequest, viewname: str, **kwargs: object) -> HttpResponse:
    """Redirect after a successful form post; htmx requests get an HX-Redirect instead of a
    302 so the browser navigates rather than swapping the next page into a fragment."""
    url = reverse(viewname, kwargs=kwargs)
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def csv_download(body: str, *, filename: str) -> HttpResponse:
    """A generated CSV as a download; the byte-order mark makes Excel read it as UTF-8."""
    response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def rejected_rows_download(body: str, *, uploaded_name: str, fallback_stem: str) -> HttpResponse:
    """An import's rejected rows, named after the file the user uploaded."""
    stem = uploaded_name.rsplit(".", 1)[0] or fallback_stem
    return csv_download(body, filename=f"{stem}-rejected-rows.csv")


def sample_csv_download(path: Path, *, filename: str) -> FileResponse:
    """A sample file shipped in the repository (``examples/``), as a download."""
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=filename, content_type="text/csv"
    )


def render_form(
    request: HttpRequest, form: Form, *, page: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """A form page: the fragment for htmx (swapped in place), the whole page otherwise;
    422 when the form has errors, so htmx swaps the errors in and tools see the refusal."""
    template = partial if getattr(request, "htmx", False) else page
    return render(request, template, {"form": form, **context}, status=422 if form.errors else 200)
