"""The ``dangjian`` command. Heavy imports happen inside commands so ``--help`` is instant."""

from . import admin, asking, library  # noqa: F401  (each module adds its commands to ``main``)
from .base import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
