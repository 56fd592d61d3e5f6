"""The API's routes, one module per resource, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from ...config import Settings
from . import answers, collections, documents, drafting, jobs, methods, status

API = "/api/v1"


def api_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix=API)
    for module in (answers, drafting, methods, status, collections, documents, jobs):
        router.include_router(module.router(settings))
    return router
