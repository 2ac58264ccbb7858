"""Commands of the ``hrarchive`` command line, one module each."""
