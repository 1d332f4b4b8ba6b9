"""The local server: the API the browser extension and the dashboard call.

``create_app`` builds the FastAPI app around a ``Runtime``; the server never
imports Playwright and never scans by itself.
"""

from __future__ import annotations

from fastapi import FastAPI

from agent.runtime import Runtime
from server.routes import health, orgs

API_PREFIX = "/api/v1"


def create_app(runtime: Runtime | None = None, *, enable_docs: bool = False) -> FastAPI:
    runtime = runtime or Runtime()
    app = FastAPI(
        title="accessrecon",
        version="0.1.0",
        summary="Who can get into each client ledger",
        docs_url="/docs" if enable_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if enable_docs else None,
    )
    app.state.runtime = runtime
    app.include_router(health.router, prefix=API_PREFIX)
    app.include_router(orgs.router, prefix=API_PREFIX)
    return app
