from roadmap import views_betas, views_commitments, views_escalations, views_items, views_releases

app_name = "roadmap"

urlpatterns = [
    *views_items.urlpatterns,
    *views_commitments.urlpatterns,
    *views_releases.urlpatterns,
    *views_escalations.urlpatterns,
    *views_betas.urlpatterns,
]
