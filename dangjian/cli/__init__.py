"""The ``dangjian`` command. Heavy imports happen inside commands so ``--help`` is instant."""

from . import admin, asking, library, ops  # noqa: F401  (each module adds its commands to ``main``)
from .base import main

__all__ = ["main"]
