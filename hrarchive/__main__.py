"""``python -m hrarchive``: the same as the ``hrarchive`` command."""

from hrarchive.cli import cli

if __name__ == "__main__":
    cli()
