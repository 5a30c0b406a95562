"""The worker's web views beside faust's /metrics: /health (the process answers) and /ready
(partitions assigned, code sets loaded, the releases topic read)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from faust.web import Request, Response, View

Readiness = Callable[[], tuple[bool, dict[str, Any]]]


def add_views(app: faust.App, app_id: str, readiness: Readiness) -> None:
    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok", "app_id": app_id})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready, body = readiness()
            return self.json(body, status=200 if ready else 503)
