"""The API's routes, one module per resource, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from ...config import Settings
from . import answers, collections, conversations, documents, drafting, jobs, methods, status


def api_routers(settings: Settings) -> list[APIRouter]:
    """Each resource's router, its routes already under ``/api/v1`` (``deps.API``): included
    as they are, a route keeps its full path template for the access log and the metrics."""
    return [
        module.router(settings)
        for module in (answers, conversations, drafting, methods, status, collections, documents, jobs)
    ]
