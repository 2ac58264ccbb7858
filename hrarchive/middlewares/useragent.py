"""Add-on that names hrarchive and ``HRARCHIVE_CONTACT`` in the User-Agent of every request.

The User-Agent is derived when a crawler starts, so ``-s HRARCHIVE_CONTACT=URL`` changes it;
a ``USER_AGENT`` set explicitly (settings module or command line) is kept as it is.
"""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from hrarchive import __version__


def user_agent(contact: str) -> str:
    """The User-Agent hrarchive sends: the project, its version and whom to contact."""
    return f"hrarchive/{__version__} (+{contact}; archiving human rights news)"


class ContactUserAgent:
    """Sets ``USER_AGENT`` from ``HRARCHIVE_CONTACT`` unless ``USER_AGENT`` was set."""

    def update_settings(self, settings: BaseSettings) -> None:
        if (settings.getpriority("USER_AGENT") or 0) > SETTINGS_PRIORITIES["default"]:
            return  # set by the user
        settings.set("USER_AGENT", user_agent(settings["HRARCHIVE_CONTACT"]), priority="addon")
