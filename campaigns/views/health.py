from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import services


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For a load balancer or a monitor: no sign-in, no secrets, two small queries.

    200 when the database answers and a worker beat within the last minute; 503 otherwise,
    with what is wrong in the JSON body.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        health = services.worker_health()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    body = {
        "status": "ok" if health.alive else "no_worker",
        "database": "ok",
        "workers": health.workers,
        "worker_last_beat_seconds": _rounded(health.last_beat_age),
        "queued_tasks": health.queued_tasks,
        "oldest_queued_task_seconds": _rounded(health.oldest_queued_age),
    }
    return JsonResponse(body, status=200 if health.alive else 503)


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
