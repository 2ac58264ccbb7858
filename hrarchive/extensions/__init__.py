"""Scrapy extensions, wired by ``EXTENSIONS`` in ``settings.py``."""
