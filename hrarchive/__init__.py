"""hrarchive: archive the news of human rights organisations into one SQLite file."""

__version__ = "0.1.0"
