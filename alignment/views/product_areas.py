from django.http import HttpResponse
from django.urls import path

from alignment.decorators import org_view


@org_view()
def _todo(request, **kwargs):
    return HttpResponse("x")


urlpatterns = [
    path("product-areas/", _todo, name="product-area-list"),
    path("product-areas/new/", _todo, name="product-area-create"),
    path("product-areas/<int:pk>/edit/", _todo, name="product-area-edit"),
    path("product-areas/<int:pk>/delete/", _todo, name="product-area-delete"),
]
