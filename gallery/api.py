"""Photo endpoints of the API. Thin: uploads, jobs and files go through the same
functions as the web pages, and someone else's photo does not exist here either."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timezone as dt_timezone

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

from deblursite.client_ip import client_ip
from deblursite.api_errors import RETRY_AFTER, Conflict, FieldRejected, Preparing, TooManyRequests, Unavailable, errors
from inference import kernels
from inference.models import Choice, ModelVersion, ServingChoice

from . import idempotency, jobs, queueing, results
from .downloads import BlendPending, result_response, save_strength
from .models import Photo, Restoration
from .names import FORMATS
from .serializers import (
    ModelVersionSerializer,
    PhotoChangeSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    RerunSerializer,
    ServingChoiceSerializer,
)
from .uploads import (
    CHOICE_HELP,
    DELETE_PENDING,
    StorageUnavailable,
    UploadLimited,
    UploadRejected,
    accept_photo,
    delete_photo,
)

# Upload rejections whose status says more than 400 does.
REJECTION_STATUS = {"too_large": 413, "unsupported_type": 415}


RESULT_ID = OpenApiParameter("result_id", int, OpenApiParameter.PATH, description="The result's id, from the photo's `results`.")


@contextmanager
def _refusals() -> Iterator[None]:
    """A change to a photo's results that cannot be made: 404 for a result it does not have,
    409 otherwise, with the reason."""
    try:
        yield
    except results.NoSuchResult as exc:
        raise NotFound(str(exc)) from exc
    except results.Refused as exc:
        raise Conflict(str(exc)) from exc


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


def _one_file_each(request: Request) -> None:
    """An upload is one photo and at most one reference: a second part of either is refused
    rather than one of them silently kept."""
    for field in ("image", "reference"):
        if (count := len(request.FILES.getlist(field))) > 1:
            raise serializers.ValidationError(
                {field: [f"Send one {field} per upload; this request has {count} parts named {field}."]}
            )


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
        description="The photo is gone at once. If the file store fails part-way, the answer is 202: "
        "the rest of its files are removed shortly, by the storage sweep.",
        responses={
            204: OpenApiResponse(description="Deleted, files and all."),
            202: OpenApiResponse(
                {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
                "Being deleted: the file store failed part-way, and the storage sweep removes the rest.",
            ),
            **errors(401, 404),
        },
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
        return (
            Photo.objects.filter(owner=self.request.user)
            .select_related("restoration__model_version")
            .prefetch_related("results")
        )

    def paginate_queryset(self, queryset) -> list[Photo]:
        page = super().paginate_queryset(queryset)
        queueing.attach_standings(photo.restoration for photo in page)
        return page

    @extend_schema(
        summary="Change a photo: the strength its downloads apply",
        request=PhotoChangeSerializer,
        responses={200: PhotoSerializer, **errors(400, 401, 404)},
    )
    def partial_update(self, request: Request, pk=None) -> Response:
        photo = self.get_object()
        change = PhotoChangeSerializer(data=request.data, partial=True)
        change.is_valid(raise_exception=True)
        if "strength" in change.validated_data:
            save_strength(photo.restoration, change.validated_data["strength"])
        return Response(self.get_serializer(photo).data)

    def destroy(self, request: Request, pk=None) -> Response:
        if delete_photo(self.get_object()):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response({"detail": DELETE_PENDING}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Upload a blurred photo",
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PhotoSerializer, **errors(400, 401, 409, 413, 415, 422, 429, 503)},
        parameters=[RETRY_AFTER, idempotency.PARAMETER],
    )
    def create(self, request: Request) -> Response:
        return idempotency.once(request, lambda: self._upload(request))

    def _upload(self, request: Request) -> Response:
        _one_file_each(request)
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
                address=client_ip(request),
                keep_location=upload.validated_data["keep_location"],
            )
        except UploadLimited as exc:
            raise TooManyRequests(exc.message, exc.retry_after) from exc
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
        summary="Run a photo again, with a model choice: a new result",
        description="Once its current job is done (succeeded, failed or cancelled). The run is a new result, which "
        "becomes the current one; the earlier results are kept, to compare or go back to. It starts at the current "
        "result's strength. Without `model`, the current result's choice runs again. 409 while a job is in "
        "progress, or when the account's storage quota is full.",
        request=RerunSerializer,
        responses={202: PhotoSerializer, **errors(400, 401, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk=None) -> Response:
        photo = self.get_object()
        chosen = RerunSerializer(data=request.data)
        chosen.is_valid(raise_exception=True)
        with _refusals():
            results.add_run(photo, chosen.validated_data.get("model", photo.restoration.choice), client_ip(request))
        return Response(self.get_serializer(self.get_object()).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Cancel a queued or running job",
        description="A running job stops at its next tile and keeps no result; the photo and its original stay. "
        "A run that was adding a result to a photo goes from its results, and the result current before it is "
        "current again.",
        request=None,
        responses={200: PhotoSerializer, **errors(401, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        photo = self.get_object()
        if not results.cancel(photo):
            raise Conflict(f"Only a queued or running job can be cancelled; this one is {photo.restoration.status}.")
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Make one of a photo's results its current one",
        description="Downloads, ZIPs and the photo's result fields follow the current result. Only a result that "
        "succeeded, and not while a job is in progress (409).",
        request=None,
        parameters=[RESULT_ID],
        responses={200: PhotoSerializer, **errors(401, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="results/<int:result_id>/current")
    def current(self, request: Request, pk=None, result_id=None) -> Response:
        photo = self.get_object()
        with _refusals():
            results.make_current(photo, result_id)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Delete one of a photo's results and its files",
        description="The current result hands over to the newest other result. 409 for a result still being made "
        "(cancel it), and for a photo's only result (delete the photo).",
        request=None,
        parameters=[RESULT_ID],
        responses={204: OpenApiResponse(description="Deleted, files and all."), **errors(401, 404, 409)},
    )
    @action(detail=True, methods=["delete"], url_path="results/<int:result_id>")
    def delete_result(self, request: Request, pk=None, result_id=None) -> Response:
        with _refusals():
            results.delete(self.get_object(), result_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Download the result",
        responses={
            **{(200, chosen.media_type): OpenApiTypes.BINARY for chosen in FORMATS.values()},
            302: OpenApiResponse(description="On S3: a redirect to a presigned URL of the file."),
            202: OpenApiResponse(
                {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
                "At a strength under 100 %, just after it was saved: the file is being rendered. "
                "Ask again after Retry-After seconds.",
            ),
            **errors(400, 401, 404, 409),
        },
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), default="png", description="File format of the download."),
            OpenApiParameter(
                "credentials", int, enum=[0, 1], default=1,
                description="0: without its Content Credentials (the C2PA manifest the result is signed with).",
            ),
            OpenApiParameter(
                "Retry-After", int, OpenApiParameter.HEADER, response=[202], description="Seconds to wait before asking again."
            ),
        ],
    )
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreAccept)
    def result(self, request: Request, pk=None) -> HttpResponse:
        chosen = request.query_params.get("format", "png")
        if chosen not in FORMATS:
            raise serializers.ValidationError({"format": [f"Choose one of: {', '.join(FORMATS)}."]})
        photo = self.get_object()
        job = photo.restoration
        if job.status != Restoration.Status.SUCCEEDED:
            raise Conflict(f"There is no result yet: the job is {job.status}.")
        try:
            return result_response(photo, chosen, as_download=True, credentials=request.query_params.get("credentials") != "0")
        except BlendPending as pending:
            raise Preparing(str(pending), pending.retry_after) from pending


class ModelChoicesView(views.APIView):
    """The choices an upload can make: auto, best, fast and shake. The learned ones (best,
    fast) each with the model serving it: what it is, its benchmark figures, licence and
    speed on this site's workers; auto and shake run the kernel engine and need no model."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="The choices and the models serving them",
        responses={200: ServingChoiceSerializer(many=True)},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        serving = ServingChoice.models_by_key()
        choices = []
        for key in Choice.values:
            learned = key in serving
            choices.append(
                {
                    "key": key,
                    "label": Choice(key).label,
                    "description": CHOICE_HELP[key],
                    "needs_model": learned,
                    "available": not learned or serving[key] is not None,
                    "seconds_per_megapixel": None if learned else kernels.FULL.seconds_per_megapixel,
                    "model": serving.get(key),
                }
            )
        return Response(ServingChoiceSerializer(choices, many=True).data)


class ActiveModelView(generics.GenericAPIView):
    """The model serving "Best quality", once the default of uploads (Auto is now). Kept for
    older clients: /api/v1/models/ lists every choice."""

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
