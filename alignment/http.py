"""Response helpers shared by views."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect


def redirect_after_post(request: HttpRequest, viewname: str, **kwargs: object) -> HttpResponse:
    """Redirect after a successful form post; htmx requests get an HX-Redirect instead of a
    302 so the browser navigates rather than swapping the next page into a fragment."""
    url = reverse(viewname, kwargs=kwargs)
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
