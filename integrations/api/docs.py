"""Pieces of the OpenAPI description shared by every endpoint: the problem+json error body,
the error responses, and the Idempotency-Key and If-Match headers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from integrations.api.errors import PROBLEM_CONTENT_TYPE


class ProblemSerializer(serializers.Serializer):
    """An error, as application/problem+json (RFC 9457)."""

    type = serializers.CharField(help_text="Stable identifier, e.g. urn:seam:problem:not-found.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong and what to do, for a person.")
    instance = serializers.CharField(required=False, help_text="The request path.")
    code = serializers.CharField(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field (dotted for nested input) to messages.",
    )
    retry_after = serializers.IntegerField(required=False, help_text="Seconds, on 429 and 409.")


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(ProblemSerializer, description=description)


def _error(status: int, description: str) -> tuple[tuple[int, str], OpenApiResponse]:
    return (status, PROBLEM_CONTENT_TYPE), problem(description)


ERROR_RESPONSES = dict(
    [
        _error(400, "Invalid input: `errors` names each field and what is wrong with it."),
        _error(401, "No API key, an unknown one, or a revoked one."),
        _error(403, "The key lacks the scope this request needs."),
        _error(404, "No such object in the key's organization (or no such endpoint)."),
        _error(405, "The endpoint does not support this method."),
        _error(406, "The Accept header asks for something other than JSON."),
        _error(409, "A request with the same Idempotency-Key is still being processed."),
        _error(413, "The request body is larger than the endpoint accepts."),
        _error(415, "The body is not application/json."),
        _error(422, "The request breaks a rule, or reuses an Idempotency-Key for another body."),
        _error(429, "Rate limit reached: wait Retry-After seconds."),
    ]
)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID is ideal), up to 255 printable ASCII characters. Retrying "
        "with the same key and the same body replays the first response (with "
        "`Idempotent-Replayed: true`) instead of doing the work again; the same key with "
        "another body is refused (422). Keys are scoped to the organization and kept 24 h."
    ),
)

IF_MATCH_PARAMETER = OpenApiParameter(
    name="If-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "The ETag from your last read. If the object changed since, the update is refused "
        "with 412 instead of overwriting someone else's change."
    ),
)
