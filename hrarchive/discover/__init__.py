"""Adding a site from its URL (``hrarchive add-site``): discovery, report and profile."""

from hrarchive.discover.fetch import Client, DiscoveryError
from hrarchive.discover.output import profile_toml, report
from hrarchive.discover.site import Discovery, discover

__all__ = ["Client", "Discovery", "DiscoveryError", "discover", "profile_toml", "report"]
