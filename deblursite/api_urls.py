"""/api/v1/: the REST API for mobile clients, its OpenAPI schema and Swagger UI."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts import api as accounts_api
from gallery import api as gallery_api

router = SimpleRouter(use_regex_path=False)
router.register("photos", gallery_api.PhotoViewSet, basename="photo")

app_name = "api"
urlpatterns = [
    path("auth/register/", accounts_api.RegisterView.as_view(), name="register"),
    path("auth/token/", accounts_api.TokenView.as_view(), name="token"),
    path("auth/tokens/", accounts_api.DeviceListView.as_view(), name="devices"),
    path("auth/tokens/<uuid:pk>/", accounts_api.DeviceView.as_view(), name="device"),
    path("me/", accounts_api.MeView.as_view(), name="me"),
    path("models/", gallery_api.ModelChoicesView.as_view(), name="models"),
    path("models/active/", gallery_api.ActiveModelView.as_view(), name="active-model"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[]), name="docs"),
    *router.urls,
]
