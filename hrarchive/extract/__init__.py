"""Extraction: pure functions that read saved pages (bytes, URL, headers), engine-free."""

from hrarchive.extract.article import extract_article
from hrarchive.extract.listing import Listing, extract_listing

__all__ = ["Listing", "extract_article", "extract_listing"]
