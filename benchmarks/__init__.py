"""Benchmarks for hrarchive: a synthetic news site generator and a server for it."""

from __future__ import annotations
