"""The API server as the benchmark runs it: the real app on loopback, plus two bare routes.

``/api/v1/bench/bare`` is a plain sync route (the badge route's own execution path:
the request gate, routing, the thread pool, JSON) without a token or the database;
``/api/v1/bench/bare-async`` skips the thread pool too. Both exist only in this
process, never in the product.

Usage: python -m bench.api.server --data-dir DIR --port PORT [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from agent.runtime import Runtime
from agent.settings import Settings
from server.app import API_PREFIX, create_app


def build(data_dir: Path, port: int, database_url: str | None):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=data_dir, database_url_setting=database_url, port=port)
    app = create_app(Runtime(settings), port=port)

    @app.get(f"{API_PREFIX}/bench/bare", include_in_schema=False)
    def bare() -> dict[str, bool]:
        return {"ok": True}

    @app.get(f"{API_PREFIX}/bench/bare-async", include_in_schema=False)
    async def bare_async() -> dict[str, bool]:
        return {"ok": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app = build(args.data_dir, args.port, args.database_url)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
