"""What makes a crawl polite: robots.txt and Crawl-delay, Retry-After, a User-Agent with a contact.

Wired in ``hrarchive/settings.py`` (``DOWNLOADER_MIDDLEWARES`` and ``ADDONS``).
"""
