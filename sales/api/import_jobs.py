"""Import jobs (SPEC §13): ``POST /api/admin/import-jobs`` (a JSON array body, or a JSON Lines /
JSON array file as ``multipart/form-data`` field ``file``) → 202 with the job;
``GET /api/admin/import-jobs`` and ``GET /api/admin/import-jobs/{id}`` follow it. Shape and
translate only: sales.services.import_jobs runs it."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import InvalidInput
from config.openapi import error_responses
from config.parsers import JSONParser
from sales.models import ImportJob
from sales.services.import_jobs import import_job_create, import_job_get

PERMS = {"*": ["sales.import_order"]}


class ImportJobErrorSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField(help_text="The document's line in JSON Lines; its position (from 1) in an array")
    reference = serializers.CharField(allow_null=True, help_text="The document's reference, when it has one")
    code = serializers.CharField()
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer[ImportJob]):
    # a field named `errors` (SPEC §13) shadows Serializer.errors in the stubs only: it is read from the model
    errors = ImportJobErrorSerializer(many=True,  # type: ignore[assignment]
                                      help_text="The first 100 failed documents, in upload order")

    class Meta:
        model = ImportJob
        fields = ["id", "status", "total", "processed", "imported", "skipped", "failed_count", "errors",
                  "created_at", "finished_at"]
        read_only_fields = fields


class ImportJobUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="JSON Lines (one §7.2 document per line) or a JSON array of documents")


SKIP_EXISTING = OpenApiParameter(
    "skip_existing", OpenApiTypes.BOOL, required=False,
    description="Skip documents whose reference was already imported (else they fail with duplicate_reference)")


def _upload_text(request: Any) -> str:
    """The upload as text: the multipart field ``file``, or the JSON array body written back as JSON."""
    if request.content_type.startswith("multipart/"):
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput("Send the documents as the multipart field 'file'.", field="file")
        raw = upload.read()
        try:
            return str(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise InvalidInput("The file must be UTF-8 text.", field="file") from None
    data = request.data
    if not isinstance(data, list):
        raise InvalidInput("The body must be a JSON array of order documents (or upload a file as 'file').",
                           field="file")
    # The array's shape is the schema's (an array of objects); each document's content is the job's to judge.
    bad = next((n for n, item in enumerate(data) if not isinstance(item, dict)), None)
    if bad is not None:
        raise InvalidInput(f"Document {bad + 1} of the array is not a JSON object.", field=str(bad))
    return json.dumps(data)


class ImportJobListView(generics.ListAPIView[ImportJob]):
    required_perms = PERMS
    serializer_class = ImportJobSerializer
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        return ImportJob.objects.defer("upload", "failure").order_by("-id")

    @extend_schema(operation_id="import_jobs_list", summary="List import jobs, newest first",
                   responses={200: ImportJobSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="import_jobs_create",
        summary="Import orders in the background: a JSON array of §7.2 documents, or a file (JSON Lines or a JSON "
                "array) as multipart field `file`. Without a broker the job has run when this answers.",
        parameters=[SKIP_EXISTING],
        request={
            "application/json": OpenApiRequest({"type": "array", "minItems": 1, "items": {"type": "object"}}),
            "multipart/form-data": ImportJobUploadSerializer,
        },
        examples=[OpenApiExample("Two documents", request_only=True, media_type="application/json", value=[
            {"reference": "WEB-1001", "email": "ann@example.com", "notify": False,
             "items": [{"sku": "GIFT", "name": "Gift card", "quantity": 1, "price": {"amount": 2500, "tax": 0}}]},
            {"reference": "WEB-1002", "email": "bo@example.com", "notify": False,
             "items": [{"sku": "GIFT", "name": "Gift card", "quantity": 2, "price": {"amount": 2500, "tax": 0}}]},
        ])],
        responses={202: ImportJobSerializer, **error_responses(400, 415)},
    )
    def post(self, request):
        raw = request.query_params.get("skip_existing", "false")
        job = import_job_create(upload=_upload_text(request), skip_existing=raw == "true", actor=request.user)
        return Response(ImportJobSerializer(import_job_get(job.id)).data, status=status.HTTP_202_ACCEPTED)


class ImportJobDetailView(APIView):
    required_perms = PERMS

    @extend_schema(operation_id="import_jobs_retrieve", summary="An import job: its progress and first 100 errors",
                   responses={200: ImportJobSerializer, **error_responses(404)})
    def get(self, request, job_id: int):
        return Response(ImportJobSerializer(import_job_get(job_id)).data)
