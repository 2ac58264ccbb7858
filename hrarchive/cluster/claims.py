"""Which worker crawls which site: claims in Redis, kept alive by a heartbeat.

A worker is named ``host:pid``.  It says it is alive with ``{p}:worker:{name}`` (a key with a
time to live, ``ttl`` seconds) and claims a site with ``SET {p}:site:{site}:owner NAME NX EX
ttl``; a heartbeat thread renews both every ``ttl / 3`` seconds, so a worker that dies
(SIGKILL, a lost machine) loses its claims within ``ttl`` (at once to a worker of its own
host, which sees that its process is gone).  A site is finished for a run once
it is in the set ``{p}:run:{run}:done``; its frontier (``hrarchive.cluster.frontier``) is kept
in Redis until then, tagged with the run and the last owner (``{p}:site:{site}:frontier``), so
the next worker that claims a site whose owner died resumes it, and knows whom it took over
from.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import psutil
import redis

logger = logging.getLogger(__name__)

DONE_DAYS = 30  # how long a run's set of finished sites is kept
# Renew a key only while it still names this worker (a claim taken over is not taken back).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def worker_name() -> str:
    """This process as the cluster names it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    """A site this worker now owns: ``resumed`` when a frontier of this run was waiting for
    it; ``dead`` names the earlier owner that died holding it (None if it stopped cleanly)."""

    site: str
    resumed: bool = False
    dead: str | None = None


class Claims:
    """The claims of one worker (see the module docstring)."""

    def __init__(self, client: redis.Redis, prefix: str, run: str, name: str | None = None,
                 ttl: float = 30.0) -> None:
        self.client = client
        self.prefix = prefix
        self.run = run
        self.name = name or worker_name()
        self.ttl_ms = max(1000, int(ttl * 1000))
        self.owned: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    # --- keys ---------------------------------------------------------------------------------
    def worker_key(self, name: str) -> str:
        return f"{self.prefix}:worker:{name}"

    def owner_key(self, site: str) -> str:
        return f"{self.prefix}:site:{site}:owner"

    def frontier_key(self, site: str) -> str:
        return f"{self.prefix}:site:{site}:frontier"

    @property
    def done_key(self) -> str:
        return f"{self.prefix}:run:{self.run}:done"

    # --- liveness -----------------------------------------------------------------------------
    def beat(self) -> None:
        """Say this worker is alive, and keep its claims."""
        self.client.set(self.worker_key(self.name), self.run, px=self.ttl_ms)
        with self._lock:
            owned = list(self.owned)
        for site in owned:
            if not self._renew(keys=[self.owner_key(site)], args=[self.name, self.ttl_ms]):
                logger.error("Lost the claim on %s (another worker took it over)", site)
                with self._lock:
                    self.owned.discard(site)

    def start(self) -> None:
        """Beat now, then every ttl/3 seconds in a thread of its own until ``stop``."""
        self.beat()
        self._thread = threading.Thread(target=self._beating, name="hrarchive-heartbeat",
                                        daemon=True)
        self._thread.start()

    def _beating(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                self.beat()
            except redis.RedisError:
                logger.exception("Heartbeat failed (Redis unreachable?); trying again")

    def stop(self) -> None:
        """Stop beating, give back every claim (unfinished) and say this worker is gone."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for site in list(self.owned):  # (a forced stop: its frontier waits in Redis)
            self.pause(site)
        self.client.delete(self.worker_key(self.name))

    def alive(self, name: str) -> bool:
        """Whether worker ``name`` lives: its heartbeat has not lapsed, and, on this host,
        its process still runs (a worker restarted at once after a crash takes over its
        sites without waiting for the dead one's heartbeat to lapse)."""
        host, _, pid = name.rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not psutil.pid_exists(int(pid)):
            return False
        return bool(self.client.exists(self.worker_key(name)))

    # --- sites --------------------------------------------------------------------------------
    def is_done(self, site: str) -> bool:
        return bool(self.client.sismember(self.done_key, site))

    def owner(self, site: str) -> str | None:
        value = self.client.get(self.owner_key(site))
        return None if value is None else _text(value)

    def taken(self, site: str) -> bool:
        """Whether another live worker holds ``site``."""
        owner = self.owner(site)
        return owner is not None and owner != self.name and self.alive(owner)

    def claim(self, site: str) -> Claim | None:
        """Take ``site`` for this worker, or None (finished for the run, or held by a live
        worker).  A claim left by a dead worker (its heartbeat lapsed) is taken over."""
        if self.is_done(site):
            return None
        key = self.owner_key(site)
        if not self.client.set(key, self.name, nx=True, px=self.ttl_ms):
            owner = self.owner(site)
            if owner is None or owner == self.name or self.alive(owner):
                return None if owner != self.name else self._owned(site)
            # its owner's heartbeat lapsed before its claim did: take it over
            if not self._release(keys=[key], args=[owner]) or \
                    not self.client.set(key, self.name, nx=True, px=self.ttl_ms):
                return None
        if self.is_done(site):  # finished by its owner between the two looks
            self._release(keys=[key], args=[self.name])
            return None
        return self._owned(site)

    def _owned(self, site: str) -> Claim:
        with self._lock:
            self.owned.add(site)
        frontier = {_text(k): _text(v)
                    for k, v in self.client.hgetall(self.frontier_key(site)).items()}
        resumed = frontier.get("run") == self.run
        previous = frontier.get("worker")
        dead = previous if resumed and previous and previous != self.name \
            and frontier.get("state") == "crawling" and not self.alive(previous) else None
        self.client.hset(self.frontier_key(site),
                         mapping={"run": self.run, "worker": self.name, "state": "crawling"})
        return Claim(site, resumed=resumed, dead=dead)

    def pause(self, site: str) -> None:
        """Give ``site`` back unfinished (a clean stop): its frontier waits for the next owner."""
        self.client.hset(self.frontier_key(site), "state", "paused")
        self.release(site)

    def finish(self, site: str, frontier_keys: Iterable[str] = ()) -> None:
        """``site`` is done for the run: recorded, its frontier dropped, its claim released."""
        pipe = self.client.pipeline()
        pipe.sadd(self.done_key, site)
        pipe.expire(self.done_key, DONE_DAYS * 86400)
        pipe.delete(self.frontier_key(site), *frontier_keys)
        pipe.execute()
        self.release(site)

    def release(self, site: str) -> None:
        with self._lock:
            self.owned.discard(site)
        self._release(keys=[self.owner_key(site)], args=[self.name])

    def settled(self, sites: Iterable[str]) -> bool:
        """Whether every site is finished for the run or held by another live worker."""
        return all(self.is_done(site) or self.taken(site) for site in sites)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
