from django.http import HttpResponse
from django.urls import path

from alignment.decorators import org_view


@org_view()
def _todo(request, **kwargs):
    return HttpResponse("x")


urlpatterns = [
    path("notifications/", _todo, name="notification-list"),
    path("notifications/<int:pk>/read/", _todo, name="notification-read"),
    path("notifications/read-all/", _todo, name="notification-read-all"),
]
