"""Adapters to other frameworks (optional dependencies)."""
