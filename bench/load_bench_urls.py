"""jiesu's URLs plus /bench/create/: the least a Django create view can do (read JSON, insert one row in a
transaction, answer 201 JSON), served by the same server in the same run as the REST intake. Bench only."""

import json

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from jiesu.urls import handler400, handler500, urlpatterns  # noqa: F401


@csrf_exempt
def minimal_create(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_row (title, content, created) VALUES (%s, %s, now()) RETURNING id",
            [body["title"], body["content"]],
        )
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id, "title": body["title"]}, status=201)


urlpatterns = [path("bench/create/", minimal_create), *urlpatterns]
