"""Endpoints for operators and monitors: /healthz (JSON) and /metrics (Prometheus text)."""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from councilwatch.sources_registry import configured_sources
from councilwatch.web.subscribe_pages import web
from db.engine import check_connection
from db.pages import counters
from db.runs import source_health

log = logging.getLogger("councilwatch.web")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def healthz(request: Request) -> Response:
    context = web(request)
    settings = context.settings
    try:
        engine = context.engine
        check_connection(engine)
        sources: list[dict[str, Any]] = []
        for source in configured_sources(settings):
            health = source_health(
                engine, source.name, unhealthy_after=settings.http.unhealthy_after_failed_runs
            )
            sources.append(
                {
                    "name": source.name,
                    "enabled": source.enabled,
                    "healthy": health.healthy,
                    "consecutive_failures": health.consecutive_failures,
                    "last_success_at": _iso(health.last_success_at),
                    "newest_document_at": _iso(health.newest_document_at),
                }
            )
    except Exception as exc:  # any database failure: the point of /healthz is to say so
        # The error text can carry the database URL; it goes to the log, not to the caller.
        log.warning("healthz: database unreachable: %s", type(exc).__name__)
        return JSONResponse(
            {"status": "down", "database": {"ok": False}, "sources": []},
            status_code=503,
            headers={"Cache-Control": "no-store"},
        )
    unhealthy = [s["name"] for s in sources if s["enabled"] and not s["healthy"]]
    return JSONResponse(
        {
            "status": "degraded" if unhealthy else "ok",
            "database": {"ok": True},
            "sources": sources,
            "unhealthy_sources": unhealthy,
        },
        headers={"Cache-Control": "no-store"},
    )


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def prometheus_text(context: Any, now: datetime) -> str:
    found = counters(context.engine, now=now)
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    family("councilwatch_fetch_runs_total", "counter", "Fetch runs by source and result.")
    for source, result, count in found.fetch_runs:
        lines.append(
            f'councilwatch_fetch_runs_total{{source="{_label(source)}",result="{result}"}} {count}'
        )
    family("councilwatch_documents", "gauge", "Documents stored, by kind.")
    for kind, count in found.documents:
        lines.append(f'councilwatch_documents{{kind="{_label(kind)}"}} {count}')
    family("councilwatch_outbox_messages", "gauge", "Outbox rows by kind and status.")
    for kind, status, count in found.outbox:
        lines.append(
            f'councilwatch_outbox_messages{{kind="{_label(kind)}",status="{_label(status)}"}} '
            f"{count}"
        )
    family("councilwatch_outbox_due", "gauge", "Pending outbox rows due to be sent now.")
    lines.append(f"councilwatch_outbox_due {found.outbox_due}")
    family("councilwatch_alert_matches_pending", "gauge", "Matches waiting for a digest.")
    lines.append(f"councilwatch_alert_matches_pending {found.pending_matches}")
    family("councilwatch_subscribers", "gauge", "Subscribers by status.")
    for status, count in found.subscribers:
        lines.append(f'councilwatch_subscribers{{status="{_label(status)}"}} {count}')
    return "\n".join(lines) + "\n"


def metrics_allowed(request: Request, clients: tuple[str, ...], proxied: bool) -> bool:
    """True if the client may read /metrics: its address is in ``clients``.

    A request that names a forwarded client when no proxy is trusted came through a proxy
    on an allowed address (say nginx on loopback) for someone else: refused.
    """
    if not proxied and any(k in (b"x-forwarded-for", b"forwarded") for k, _ in request.headers.raw):
        return False
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(c, strict=False) for c in clients)


def metrics(request: Request) -> Response:
    context = web(request)
    settings = context.settings.web
    if not metrics_allowed(request, settings.metrics_clients, bool(settings.trusted_proxies)):
        raise HTTPException(404)  # as if there were nothing here
    return PlainTextResponse(
        prometheus_text(context, context.runtime.now()),
        media_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
