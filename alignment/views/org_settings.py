from django.http import HttpResponse
from django.urls import path

from alignment.decorators import org_view


@org_view()
def _todo(request, **kwargs):
    return HttpResponse("x")


urlpatterns = [
    path("settings/", _todo, name="org-settings"),
]
