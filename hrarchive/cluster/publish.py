"""What the writer tells workers that never open the archive: each site's SiteState, kept in
Redis at ``{prefix}:state:{site}`` (JSON, see ``hrarchive.cluster.codec.state_to_json``)."""

from __future__ import annotations

import json

import redis

from hrarchive.cluster.client import state_key
from hrarchive.cluster.codec import state_from_json, state_to_json
from hrarchive.store.state import SiteState


def publish_state(client: redis.Redis, prefix: str, state: SiteState) -> None:
    """Keep ``state`` as the latest known state of its site."""
    client.set(state_key(prefix, state.site),
               json.dumps(state_to_json(state), ensure_ascii=False, separators=(",", ":")))


def published_state(client: redis.Redis, prefix: str, site: str) -> SiteState | None:
    """The state the writer last published for ``site``, if any."""
    raw = client.get(state_key(prefix, site))
    return state_from_json(json.loads(raw)) if raw else None
