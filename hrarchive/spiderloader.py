"""Spider loader that makes every site profile (built-in and ``HRARCHIVE_SITES``) a spider."""

from __future__ import annotations

from scrapy.settings import BaseSettings
from scrapy.spiderloader import SpiderLoader

from hrarchive.profiles import load_profiles
from hrarchive.spiders.site import spider_for


class SiteSpiderLoader(SpiderLoader):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        for profile in load_profiles(settings.getlist("HRARCHIVE_SITES")).values():
            self._spiders.setdefault(profile.id, spider_for(profile))
