"""Item pipelines, one job each, wired in flow order by ``ITEM_PIPELINES``."""
