from rest_framework.routers import SimpleRouter

from feedback.api.views import FeedbackViewSet, ThemeViewSet

router = SimpleRouter()
router.register("feedback", FeedbackViewSet, basename="feedback")
router.register("themes", ThemeViewSet, basename="theme")

urlpatterns = router.urls
