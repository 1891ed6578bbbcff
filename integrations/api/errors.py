"""Every API error as ``application/problem+json`` (RFC 9457).

One shape for all of them, whatever raised it (DRF, Django, a service, the URL resolver)::

    {"type": "urn:seam:problem:validation-error", "title": "Invalid request",
     "status": 400, "detail": "...", "instance": "/api/v1/accounts/", "code": "invalid",
     "errors": {"arr": ["A valid number is required."]}}

``errors`` maps a field (dotted for nested input: ``accounts.3.arr``) to its messages and is
present only when fields are at fault. ``type`` is a stable identifier clients may switch on;
docs/api.md lists them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from alignment.errors import ApplicationError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource has changed since you read it."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request is well-formed but breaks a rule."
    default_code = "unprocessable"


# status -> (type suffix, title)
_TITLES: dict[int, tuple[str, str]] = {
    400: ("validation-error", "Invalid request"),
    401: ("not-authenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Rule broken"),
    428: ("precondition-required", "Precondition required"),
    429: ("rate-limited", "Too many requests"),
    500: ("server-error", "Server error"),
}
# ApplicationError.code -> HTTP status; anything else is a 422.
_APPLICATION_STATUS = {
    "permission_denied": 403,
    "duplicate": 409,
    "precondition_failed": 412,
    "not_found": 404,
}


def problem_type(status_code: int, code: str | None = None) -> str:
    if status_code == 400 and code == "parse_error":
        return "urn:seam:problem:malformed-json"
    suffix = _TITLES.get(status_code, ("error", "Error"))[0]
    return f"urn:seam:problem:{suffix}"


def problem_body(
    status_code: int,
    detail: str,
    *,
    instance: str = "",
    code: str | None = None,
    errors: dict[str, list[str]] | None = None,
    title: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(status_code, code),
        "title": title or _TITLES.get(status_code, ("error", "Error"))[1],
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if code:
        body["code"] = code
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field.sub.0": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten_errors(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _first_message(errors: dict[str, list[str]]) -> str:
    for field, messages in errors.items():
        if messages:
            return messages[0] if field == "non_field_errors" else f"{field}: {messages[0]}"
    return "The request is invalid."


def _response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        body, status=body["status"], headers=headers or {}, content_type=PROBLEM_CONTENT_TYPE
    )


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes a problem+json response.

    Unexpected exceptions are logged with their traceback and answered with a generic 500
    problem (no internals leak); the request's transaction has already rolled back.
    """
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, ApplicationError):
        code = exc.code or "invalid"
        status_code = _APPLICATION_STATUS.get(code, 422)
        return _response(
            problem_body(
                status_code, exc.message, instance=instance, code=code, errors=exc.field_errors
            )
        )
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("No such object in this organization.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*(exc.args))
    if not isinstance(exc, exceptions.APIException):
        logger.exception("unhandled API error on %s", instance, exc_info=exc)
        return _response(
            problem_body(
                500,
                "Something went wrong on our side; nothing was changed. Try again, and "
                "contact support if it keeps happening.",
                instance=instance,
                code="server_error",
            )
        )

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    extra: dict[str, Any] = {}
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        extra["retry_after"] = int(exc.wait)  # type: ignore[attr-defined]
    detail = exc.detail
    codes = exc.get_codes()
    if isinstance(detail, dict | list):
        errors = flatten_errors(detail)
        message = _first_message(errors)
        code = "invalid"
    else:
        errors = {}
        message = str(detail)
        code = codes if isinstance(codes, str) else None
    if isinstance(exc, exceptions.ValidationError) and errors:
        message = "Some fields need attention: " + _first_message(errors)
    return _response(
        problem_body(
            exc.status_code, message, instance=instance, code=code, errors=errors, **extra
        ),
        headers,
    )


@csrf_exempt  # answers every method with a 404 and changes nothing, so no CSRF token applies
def not_found_view(request: HttpRequest, unmatched: str = "") -> JsonResponse:
    """The API's catch-all: an unknown URL under /api/v1/ is a problem+json 404 too.

    A path missing its trailing slash gets a hint instead of Django's HTML redirect (which
    would drop a POST body).
    """
    detail = "There is no API endpoint at this address."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "not-found":
            detail = f"There is no API endpoint at this address; did you mean {request.path}/ ?"
    body = problem_body(404, detail, instance=request.path, code="not_found")
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
