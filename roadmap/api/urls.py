from rest_framework.routers import SimpleRouter

from roadmap.api.views import CommitmentViewSet, ReleaseViewSet, RoadmapItemViewSet

router = SimpleRouter()
router.register("roadmap-items", RoadmapItemViewSet, basename="roadmap-item")
router.register("commitments", CommitmentViewSet, basename="commitment")
router.register("releases", ReleaseViewSet, basename="release")

urlpatterns = router.urls
