"""Photo endpoints of the API. Thin: uploads, jobs and files go through the same
functions as the web pages, and someone else's photo does not exist here either."""

from datetime import timezone as dt_timezone
from pathlib import PurePath

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, permissions, serializers, status, views, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from deblursite.api_errors import RETRY_AFTER, Conflict, FieldRejected, Unavailable, errors
from inference.models import ModelVersion, ServingChoice

from . import jobs
from .media import file_response
from .models import Photo, Restoration
from .serializers import ModelVersionSerializer, PhotoSerializer, PhotoUploadSerializer, ServingChoiceSerializer
from .uploads import StorageUnavailable, UploadRejected, accept_photo, delete_photo

# Upload rejections whose status says more than 400 does.
REJECTION_STATUS = {"too_large": 413, "unsupported_type": 415}
# format -> (field of the result, suffix of the download name, media type)
RESULT_FORMATS = {
    "png": ("result", "-deblurred.png", "image/png"),
    "jpeg": ("result_jpeg", "-deblurred.jpg", "image/jpeg"),
    "webp": ("result_webp", "-deblurred.webp", "image/webp"),
}


class UploadRateThrottle(UserRateThrottle):
    scope = "uploads"


class PhotoPagination(CursorPagination):
    ordering = "-created"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request: Request):
        """DRF checks a cursor's shape, not its position: a made-up position that is
        no timestamp would reach the database and fail there (500). It is as
        invalid as a garbled cursor: 404."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                position = Photo._meta.get_field("created").to_python(cursor.position)
                if not timezone.is_aware(position):
                    raise ValueError("The API hands out positions with their time zone.")
                position.astimezone(dt_timezone.utc)  # what the database adapter does; overflows near year 9999
            except (ValidationError, ValueError, OverflowError) as exc:
                raise NotFound(self.invalid_cursor_message) from exc
        return cursor


class PhotoFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="restoration__status", choices=Restoration.Status.choices)

    class Meta:
        model = Photo
        fields = ["status"]


class IgnoreAccept(BaseContentNegotiation):
    """A file download answers with the file whatever Accept says; errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema_view(
    list=extend_schema(
        summary="Your photos, newest first",
        description="An unknown `status` is 400; a cursor that is not one the API handed out is 404.",
        responses={200: PhotoSerializer(many=True), **errors(400, 401, 404)},
    ),
    retrieve=extend_schema(summary="A photo and its job", responses={200: PhotoSerializer, **errors(401, 404)}),
    destroy=extend_schema(
        summary="Delete a photo, its job and every stored file",
        responses={204: OpenApiResponse(description="Deleted."), **errors(401, 404, 503)},
    ),
)
class PhotoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = PhotoSerializer
    pagination_class = PhotoPagination
    filterset_class = PhotoFilter
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is made without a user
            return Photo.objects.none()
        return Photo.objects.filter(owner=self.request.user).select_related("restoration__model_version")

    def get_throttles(self) -> list:
        return [UploadRateThrottle()] if self.action == "create" else []

    def perform_destroy(self, photo: Photo) -> None:
        try:
            delete_photo(photo)
        except StorageUnavailable as exc:
            raise Unavailable(str(exc)) from exc

    @extend_schema(
        summary="Upload a blurred photo",
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PhotoSerializer, **errors(400, 401, 413, 415, 429, 503)},
        parameters=[RETRY_AFTER],
    )
    def create(self, request: Request) -> Response:
        upload = PhotoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        image = upload.validated_data["image"]
        try:
            photo = accept_photo(
                request.user,
                image,
                original_name=image.name or "photo",
                reference=upload.validated_data.get("reference"),
                strength=upload.validated_data["strength"],
                choice=upload.validated_data["model"],
            )
        except UploadRejected as exc:
            raise FieldRejected(exc.field, exc.message, REJECTION_STATUS.get(exc.code, 400), exc.code) from exc
        except StorageUnavailable as exc:
            raise Unavailable(str(exc)) from exc
        return Response(self.get_serializer(photo).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Run a failed job again",
        request=None,
        responses={202: PhotoSerializer, **errors(401, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        photo = self.get_object()
        if photo.restoration.status != Restoration.Status.FAILED:
            raise Conflict(f"Only a failed job can be retried; this one is {photo.restoration.status}.")
        jobs.retry(photo.restoration)
        photo.restoration.refresh_from_db()
        return Response(self.get_serializer(photo).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download the result",
        parameters=[
            OpenApiParameter(
                "format", str, enum=list(RESULT_FORMATS), default="png", description="File format of the download."
            )
        ],
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for _, _, media_type in RESULT_FORMATS.values()},
            302: OpenApiResponse(description="On S3: a redirect to a presigned URL of the file."),
            **errors(400, 401, 404, 409),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreAccept)
    def result(self, request: Request, pk=None) -> HttpResponse:
        chosen = request.query_params.get("format", "png")
        if chosen not in RESULT_FORMATS:
            raise serializers.ValidationError({"format": [f"Choose one of: {', '.join(RESULT_FORMATS)}."]})
        photo = self.get_object()
        job = photo.restoration
        if job.status != Restoration.Status.SUCCEEDED:
            raise Conflict(f"There is no result yet: the job is {job.status}.")
        field, suffix, _ = RESULT_FORMATS[chosen]
        return file_response(getattr(job, field), download_name=PurePath(photo.original_name).stem + suffix)


class ModelChoicesView(views.APIView):
    """The model choices an upload can make, each with the model serving it: what it is,
    its benchmark figures, licence and speed on this site's workers."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="The model choices and the models serving them",
        responses={200: ServingChoiceSerializer(many=True)},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        choices = [
            {"key": key, "label": ServingChoice.Key(key).label, "model": version}
            for key, version in ServingChoice.models_by_key().items()
        ]
        return Response(ServingChoiceSerializer(choices, many=True).data)


class ActiveModelView(generics.GenericAPIView):
    """The model serving "Best quality", the default of uploads. Kept for older clients:
    /api/v1/models/ lists every choice."""

    serializer_class = ModelVersionSerializer
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="The model serving Best quality (kept for older clients)",
        responses={200: ModelVersionSerializer, **errors(404)},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        model = ModelVersion.serving(ServingChoice.Key.BEST)
        if model is None:
            return Response({"detail": "No model is installed yet."}, status=status.HTTP_404_NOT_FOUND)
        return Response(self.get_serializer(model).data)
