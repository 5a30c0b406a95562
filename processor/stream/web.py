"""The worker's web views: /metrics (its Prometheus registry), /health (the process answers)
and /ready (partitions assigned, code sets loaded, the releases topic read)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import faust
from aiohttp.web import Response as AioResponse
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

Readiness = Callable[[], tuple[bool, dict[str, Any]]]


def add_views(
    app: faust.App, app_id: str, readiness: Readiness, registry: CollectorRegistry
) -> None:
    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            body = generate_latest(registry)
            return cast(
                Response, AioResponse(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
            )

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok", "app_id": app_id})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready, body = readiness()
            return self.json(body, status=200 if ready else 503)
