"""The HTTP service: ``create_app(settings)`` (FastAPI) and its request/response models."""

from .app import create_app

__all__ = ["create_app"]
