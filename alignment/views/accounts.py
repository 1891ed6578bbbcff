from django.http import HttpResponse
from django.urls import path

from alignment.decorators import org_view


@org_view()
def _todo(request, **kwargs):  # replaced by the accounts work
    return HttpResponse("accounts")


urlpatterns = [
    path("accounts/", _todo, name="account-list"),
    path("accounts/new/", _todo, name="account-create"),
    path("accounts/<int:pk>/", _todo, name="account-detail"),
    path("accounts/<int:pk>/edit/", _todo, name="account-edit"),
    path("accounts/import/", _todo, name="account-import"),
    path("accounts/import/<int:pk>/", _todo, name="account-import-status"),
]
