"""The API server process: uvicorn serving the app factory, with nothing of the command line loaded.

`hocso serve` replaces itself with `python -m app.serve` (exec: the same process id, signals and environment)
so that the worker does not carry typer, click, rich, pygments, alembic and the admin commands it never runs:
megabytes of every worker's memory (docs/benchmarks.md, 2026-12-03 fix 12). Its HTTP protocol is uvicorn's
httptools one with bounds on the size and pace of request heads (`app/core/request_head.py`).
"""

import argparse

import uvicorn

from app.core.config import check_production, get_settings
from app.core.request_head import BoundedHeadProtocol


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.serve", description="Serve the HocSo API")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default HOCSO_WORKERS)")
    args = parser.parse_args(argv)
    settings = get_settings()
    check_production(settings)
    uvicorn.run("app.main:build", factory=True, host=settings.host, port=settings.port,
                workers=args.workers or settings.workers, log_config=None, http=BoundedHeadProtocol,
                proxy_headers=True,
                forwarded_allow_ips=",".join(settings.trusted_proxies))


if __name__ == "__main__":
    main()
