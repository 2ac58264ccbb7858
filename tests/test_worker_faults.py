"""Crawler workers and their writer killed or stopped midway (issue 11), with real
subprocesses (``tests/cluster.py``), a real redis-server and a scenario site on 127.0.0.1.

- A worker SIGKILLed midway and restarted at once: the new worker takes the site over (the
  dead one's process is gone, its heartbeat not lapsed yet), fetches again the requests it
  had taken from the persisted frontier, and every story is archived once.
- A worker stopped with SIGTERM gives its site back at once; the next one resumes it.
- The writer SIGKILLed midway and started again: the workers wait for it, nothing is lost
  and nothing applied twice.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.cluster import (
    PER_PAGE,
    STORIES,
    Process,
    archived,
    check_every_story_once,
    scenario_worker,
    wait_for,
    writer,
)
from tests.scenario import ScenarioSite


@pytest.fixture
def scenario() -> Iterator[ScenarioSite]:
    site = ScenarioSite(STORIES, per_page=PER_PAGE, delay=0.05).start()
    yield site
    site.stop()


def test_a_killed_workers_site_is_taken_over_and_nothing_is_lost(
        scenario: ScenarioSite, redis_url: str, tmp_path: Path,
        processes: list[Process]) -> None:
    db_path = tmp_path / "archive.db"
    the_writer = writer(processes, redis_url, db_path)
    # A request every 0.2 s or so: the worker is killed with requests taken from the frontier
    # and not done (waiting for the site's turn), between two downloads (killed during one,
    # it would hold the host's politeness slot until the slot's lease lapses, 35 s here).
    paced = ("DOWNLOAD_DELAY=0.2", "DOWNLOAD_TIMEOUT=5")
    first = scenario_worker(processes, redis_url, db_path, scenario, *paced)
    wait_for(lambda: archived(db_path) >= 8, "some stories are archived")
    client = redis.Redis.from_url(redis_url)
    slot = f"hrarchive:site:{scenario.base_url.split('//')[1]}:slot"
    wait_for(lambda: not client.exists(slot), "no download is under way")
    first.kill()
    assert client.hlen("hrarchive:scenario:requests:inflight") >= 1  # taken, not done
    # restarted at once: its heartbeat has not lapsed, but its process is gone
    assert client.exists("hrarchive:site:scenario:owner")
    second = scenario_worker(processes, redis_url, db_path, scenario, *paced)
    assert second.wait(90) == 0, second.output
    assert "Taking over scenario from" in second.output
    requeued = re.search(r"'hrarchive/frontier/requeued': (\d+)", second.output)
    assert requeued and int(requeued.group(1)) >= 1, second.output  # fetched again
    assert the_writer.stop() == 0, the_writer.output
    db = check_every_story_once(db_path, scenario)
    [row] = list(db["crawls"].rows)  # one row for the site's run, both workers on it
    assert row["status"] == "finished"
    workers = {w["name"]: w["status"] for w in json.loads(row["workers"])}
    assert len(workers) == 2 and sorted(workers.values()) == ["died", "done"]


def test_a_stopped_worker_leaves_its_site_to_the_next_one(
        scenario: ScenarioSite, redis_url: str, tmp_path: Path,
        processes: list[Process]) -> None:
    db_path = tmp_path / "archive.db"
    the_writer = writer(processes, redis_url, db_path)
    paced = ("DOWNLOAD_DELAY=0.2",)
    first = scenario_worker(processes, redis_url, db_path, scenario, *paced)
    wait_for(lambda: archived(db_path) >= 8, "some stories are archived")
    assert first.stop() == 1, first.output  # SIGTERM: a clean stop, the site interrupted
    client = redis.Redis.from_url(redis_url)
    assert not client.exists("hrarchive:site:scenario:owner")  # given back at once
    second = scenario_worker(processes, redis_url, db_path, scenario, *paced)
    assert second.wait(60) == 0, second.output
    assert "Resuming scenario where the run left it" in second.output
    assert the_writer.stop() == 0, the_writer.output
    db = check_every_story_once(db_path, scenario)
    [row] = list(db["crawls"].rows)
    assert row["status"] == "finished"
    workers = {w["name"]: w["status"] for w in json.loads(row["workers"])}
    assert sorted(workers.values()) == ["done", "interrupted"]


def test_a_killed_writer_restarted_loses_nothing_and_applies_nothing_twice(
        scenario: ScenarioSite, redis_url: str, tmp_path: Path,
        processes: list[Process]) -> None:
    db_path = tmp_path / "archive.db"
    first = writer(processes, redis_url, db_path)
    crawler = scenario_worker(processes, redis_url, db_path, scenario)
    wait_for(lambda: archived(db_path) >= 5, "some stories are archived")
    first.kill()
    time.sleep(1)  # the worker goes on putting into Redis meanwhile
    second = writer(processes, redis_url, db_path)
    assert crawler.wait(60) == 0, crawler.output
    assert second.stop() == 0, second.output
    db = check_every_story_once(db_path, scenario)
    [row] = list(db["crawls"].rows)
    assert row["status"] == "finished" and row["articles_new"] == STORIES


