from django.urls import re_path

from . import open311

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

open311_urls = [
    re_path(r"^discovery" + FMT, open311.discovery, name="open311-discovery"),
    re_path(r"^v2/services" + FMT, open311.service_list, name="open311-services"),
    re_path(r"^v2/services/(?P<code>[^/]+?)" + FMT, open311.service_definition, name="open311-service"),
    re_path(r"^v2/requests" + FMT, open311.requests, name="open311-requests"),
    re_path(r"^v2/requests?/(?P<number>[^/]+?)" + FMT, open311.request_detail, name="open311-request"),
    re_path(r"^v2/tokens/(?P<token>[^/]+?)" + FMT, open311.token_lookup, name="open311-token"),
    re_path(r"^v2/servicerequestupdates" + FMT, open311.updates, name="open311-updates"),
    re_path(r"^(?P<path>.*)$", open311.not_found, name="open311-not-found"),  # errors in the spec's format
]
