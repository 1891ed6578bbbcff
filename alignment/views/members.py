from django.http import HttpResponse
from django.urls import path

from alignment.decorators import org_view


@org_view()
def _todo(request, **kwargs):  # replaced by the members work
    return HttpResponse("members")


urlpatterns = [
    path("members/", _todo, name="member-list"),
    path("members/invite/", _todo, name="member-invite"),
    path("members/<int:pk>/role/", _todo, name="member-role"),
    path("members/<int:pk>/deactivate/", _todo, name="member-deactivate"),
    path("members/<int:pk>/reactivate/", _todo, name="member-reactivate"),
    path("invitations/<int:pk>/revoke/", _todo, name="invitation-revoke"),
]
