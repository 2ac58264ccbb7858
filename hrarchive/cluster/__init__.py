"""Many crawler processes, one archive writer: the Redis side of hrarchive (issue 11)."""
