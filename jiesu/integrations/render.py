"""Open311's two formats from one structure: XML is the required format, JSON its mechanical mapping (the "Spark
convention": the root wrapper disappears, repeated-element containers become arrays, single records objects)."""

import json
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings
from django.http import HttpResponse

# container element → its repeated child
CHILD = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "service_requests_updates": "request_update",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
FORMATS = {"xml", "json"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, list):
        for item in value:
            _append(element, CHILD[name], item)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _append(element, key, inner)
    else:
        element.text = _text(value)


def to_xml(root: str, body: list[Any] | dict[str, Any]) -> bytes:
    element = ET.Element(root)
    if isinstance(body, list):
        for item in body:
            _append(element, CHILD[root], item)
    else:
        for key, value in body.items():
            _append(element, key, value)
    text: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + text


def content_type(fmt: str) -> str:
    base = "application/json" if fmt == "json" else "text/xml"
    return base if settings.OPEN311_STRICT_CONTENT_TYPE else f"{base}; charset=utf-8"


def respond(fmt: str, root: str, body: list[Any] | dict[str, Any], status: int = 200) -> HttpResponse:
    """`body` is what the JSON says; XML wraps it in `root` (and each list item in its child element)."""
    payload = json.dumps(body, ensure_ascii=False).encode() if fmt == "json" else to_xml(root, body)
    return HttpResponse(payload, status=status, content_type=content_type(fmt))


def error(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The spec's error list, in the suffix's format (XML when the suffix is unknown)."""
    fmt = fmt if fmt in FORMATS else "xml"
    return respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status)
