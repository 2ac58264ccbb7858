"""``hrarchive writer`` and its Redis queue against a real redis-server (issue 11): operations
from workers land once, a killed writer loses nothing, a full queue waits, requests are
answered and a worker that died is recorded."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlite_utils import Database

from hrarchive.cluster.client import WriterClient, worker_key
from hrarchive.cluster.codec import encode
from hrarchive.cluster.publish import published_state
from hrarchive.cluster.redisqueue import RedisQueue
from hrarchive.cluster.requests import Context, forget_applied, translator
from hrarchive.store.queue import ARTICLE, ATTACHMENT, TEASER, Op
from hrarchive.store.writer import ArchiveWriter
from tests.conftest import ROOT, run_hrarchive
from tests.redisserver import free_port

PREFIX = "hrt"


def story(i: int) -> dict[str, Any]:
    return {"site": "ngo", "url": f"https://ngo.example/news/{i}", "title": f"Story {i}",
            "body_text": f"The text of story number {i}.", "published": "2026-11-29"}


def teaser(i: int) -> dict[str, Any]:
    return {"site": "ngo", "listing_url": "https://ngo.example/news",
            "url": f"https://ngo.example/news/{i}", "title": f"Story {i}"}


def committed(path: Path) -> int:
    """Stories committed to the archive at ``path`` so far."""
    if not path.exists():
        return 0
    table = Database(path)["articles"]
    return table.count if table.exists() else 0


def committed_teasers(path: Path) -> int:
    if not path.exists():
        return 0
    table = Database(path)["teasers"]
    return table.count if table.exists() else 0


def wait_for(check: Any, seconds: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or check}")


class Writer:
    """An ``hrarchive writer`` subprocess."""

    def __init__(self, url: str, db: Path, log: Path, *settings: str) -> None:
        args = [sys.executable, "-m", "hrarchive", "writer", "--redis", url, "--db", str(db),
                "--prefix", PREFIX, "--heartbeat-check", "0.2", "--log-every", "2"]
        for setting in settings:
            args += ["-s", setting]
        self.log = log
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=log.open("ab"))
        size = log.stat().st_size if log.exists() else 0
        wait_for(lambda: b"Writing" in log.read_bytes()[size:] or self.process.poll() is not None,
                 what="the writer to start")
        assert self.process.poll() is None, log.read_text()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def writers(redis_url: str, tmp_path: Path) -> Iterator[list[Writer]]:
    started: list[Writer] = []
    yield started
    for writer in started:
        writer.kill()


def start(writers: list[Writer], url: str, tmp_path: Path, *settings: str) -> Writer:
    writer = Writer(url, tmp_path / "archive.db", tmp_path / "writer.log", *settings)
    writers.append(writer)
    return writer


def test_an_attachment_is_kept_in_the_writers_folder_not_the_workers(
        redis_url: str, tmp_path: Path, writers: list[Writer]) -> None:
    """A worker on another machine names a folder of its own machine; the writer keeps the
    file in its own attachments folder (beside its archive here)."""
    writer = start(writers, redis_url, tmp_path, "HRARCHIVE_COMMIT_SECONDS=0.2")
    client = WriterClient(redis_url, PREFIX)
    elsewhere = tmp_path / "worker-machine" / "attachments"
    body = b"%PDF-1.4 a report of the project's own making"
    outcomes: list[Any] = []
    client.put(Op(ATTACHMENT, {
        "site": "ngo", "url": "https://ngo.example/files/report.pdf",
        "fetched_url": "https://ngo.example/files/report.pdf", "body": body,
        "title": "Report", "story_url": None, "content_type": "application/pdf",
        "root": str(elsewhere)}, reply=outcomes.append))
    client.flush().result(30)
    wait_for(lambda: outcomes, what="the attachment's outcome")
    client.close()
    assert writer.stop() == 0
    assert outcomes == ["new"]
    kept = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in kept] == [body]
    assert not elsewhere.exists()
    row = next(Database(tmp_path / "archive.db").query("select file, size from attachments"))
    assert row["size"] == len(body)
    assert (tmp_path / "attachments" / row["file"]).read_bytes() == body


def test_ops_from_a_client_land_in_the_archive_and_sigterm_commits_what_is_queued(
        redis_url: str, tmp_path: Path, writers: list[Writer]) -> None:
    writer = start(writers, redis_url, tmp_path, "HRARCHIVE_COMMIT_SECONDS=0.2")
    client = WriterClient(redis_url, PREFIX)
    outcomes: list[Any] = []
    for i in range(20):
        client.put(Op(ARTICLE, story(i), id=f"a{i}", reply=outcomes.append))
        client.put(Op(TEASER, teaser(i)))
    redis.Redis.from_url(redis_url).rpush(f"{PREFIX}:ops", b"not an operation")
    client.flush().result(30)
    assert sorted(o[0] for o in outcomes) == ["new"] * 20
    assert redis.Redis.from_url(redis_url).lrange(f"{PREFIX}:bad", 0, -1) == \
        [b"not an operation"]  # kept aside for a person, and the writer goes on
    for i in range(20, 520):  # queued faster than written, then SIGTERM at once
        client.put(Op(TEASER, teaser(i)))
    assert writer.stop() == 0
    client.close()
    db = Database(tmp_path / "archive.db")
    assert db["articles"].count == 20
    assert db["teasers"].count == 520
    assert redis.Redis.from_url(redis_url).llen(f"{PREFIX}:ops") == 0
    log = writer.log.read_text()
    assert "batches committed" in log and "Stopped after" in log


def test_a_second_sigterm_stops_after_the_batch_in_hand_and_keeps_the_rest_queued(
        redis_url: str, tmp_path: Path, writers: list[Writer]) -> None:
    server = redis.Redis.from_url(redis_url)
    total = 8000
    pipe = server.pipeline(transaction=False)
    for i in range(total):
        pipe.rpush(f"{PREFIX}:ops", encode(Op(TEASER, teaser(i), id=f"t{i}")))
    pipe.execute()
    writer = start(writers, redis_url, tmp_path, "HRARCHIVE_COMMIT_SECONDS=0.05",
                   "HRARCHIVE_BATCH_SIZE=50")
    writer.process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    assert writer.stop() == 1
    written = committed_teasers(tmp_path / "archive.db")
    queued = server.llen(f"{PREFIX}:ops")
    assert queued > 0 and server.llen(f"{PREFIX}:processing") == 0
    assert written + queued == total  # nothing lost: the rest waits for the next writer


def test_a_writer_killed_midway_and_restarted_leaves_every_story_exactly_once(
        redis_url: str, tmp_path: Path, writers: list[Writer]) -> None:
    settings = ("HRARCHIVE_COMMIT_SECONDS=1", "HRARCHIVE_BATCH_SIZE=400")
    writer = start(writers, redis_url, tmp_path, *settings)
    server = redis.Redis.from_url(redis_url)
    client = WriterClient(redis_url, PREFIX)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def count(outcome: Any) -> None:
        with lock:
            outcomes[outcome[0] if isinstance(outcome, list | tuple) else repr(outcome)] += 1

    total = 2000

    def produce() -> None:
        for i in range(total):
            client.put(Op(ARTICLE, story(i), reply=count))
            time.sleep(0.0005)

    producer = threading.Thread(target=produce)
    producer.start()
    db_path = tmp_path / "archive.db"
    # kill it while a batch is in its hands, after it committed some
    wait_for(lambda: committed(db_path) > 100, what="some committed stories")
    # freeze it with a batch in its hands (a batch seen in flight may be committed before a
    # kill lands; a stopped writer commits nothing), then kill it
    deadline = time.monotonic() + 30
    while True:
        wait_for(lambda: server.llen(f"{PREFIX}:processing") > 20, what="a batch in flight")
        writer.process.send_signal(signal.SIGSTOP)
        left = server.llen(f"{PREFIX}:processing")
        if left > 0 or time.monotonic() > deadline:
            break
        writer.process.send_signal(signal.SIGCONT)
    writer.kill()
    assert left > 0  # the restarted writer has a killed batch to apply again
    start(writers, redis_url, tmp_path, *settings)
    producer.join(60)
    client.flush().result(60)
    client.close()
    db = Database(db_path)
    urls = [row[0] for row in db.execute("select url from articles")]
    assert len(urls) == len(set(urls)) == total
    assert db["article_versions"].count == total
    assert outcomes == Counter({"new": total})  # each answered once, as first applied
    assert server.llen(f"{PREFIX}:processing") == 0 and server.llen(f"{PREFIX}:ops") == 0
    # at least what it held when frozen: a BLMOVE it was blocked in can still be served
    # by Redis while the process is stopped
    again = re.search(r"Applying again the (\d+) operations", (tmp_path / "writer.log").read_text())
    assert again and int(again.group(1)) >= left


class DiesAfterCommit(RedisQueue):
    """A queue whose writer dies between its commit and its acknowledgement."""

    def ack_results(self, results: list[tuple[Op, Any]]) -> None:
        raise SystemExit("killed after the commit")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_batch_committed_but_not_acknowledged_is_not_applied_twice(
        redis_url: str, tmp_path: Path) -> None:
    server = redis.Redis.from_url(redis_url)
    client = WriterClient(redis_url, PREFIX)
    outcomes: list[Any] = []
    for i in range(30):
        client.put(Op(ARTICLE, story(i), reply=outcomes.append))
    path = tmp_path / "archive.db"
    dying = ArchiveWriter(path, batch_size=100, commit_seconds=0.3,
                          queue=DiesAfterCommit(server, PREFIX, translate=translator(server,
                                                                                    PREFIX)))
    wait_for(lambda: not dying.is_alive(), what="the writer to die")
    assert Database(path)["articles"].count == 30  # committed
    assert server.llen(f"{PREFIX}:processing") == 30 and not outcomes  # never acknowledged
    queue = RedisQueue(server, PREFIX, translate=translator(server, PREFIX))
    again = ArchiveWriter(path, batch_size=100, commit_seconds=0.3, queue=queue)
    client.flush().result(30)
    context = Context(server, PREFIX)
    applied = Database(path)["applied_ops"].count
    assert applied == 31  # the stories and the flush
    # once no batch is in flight, none can come back: the ids are forgotten
    server.rpush(f"{PREFIX}:processing", b"in flight")
    assert again.call(lambda a: forget_applied(a, context, f"{PREFIX}:processing")
                      ).result(10) == 0
    server.delete(f"{PREFIX}:processing")
    assert again.call(lambda a: forget_applied(a, context, f"{PREFIX}:processing")
                      ).result(10) == applied
    again.close()
    client.close()
    db = Database(path)
    assert db["applied_ops"].count == 0
    assert db["articles"].count == 30 and db["article_versions"].count == 30
    # the outcome sent is the one of the first application, not "unchanged"
    assert sorted(o[0] for o in outcomes) == ["new"] * 30
    assert server.llen(f"{PREFIX}:processing") == 0


def test_a_full_queue_makes_producers_wait_and_drops_nothing(redis_url: str,
                                                             tmp_path: Path) -> None:
    server = redis.Redis.from_url(redis_url)
    client = WriterClient(redis_url, PREFIX, maxsize=25)
    depths: list[int] = []
    producer = threading.Thread(target=lambda: [client.put(Op(TEASER, teaser(i)))
                                                for i in range(300)])
    producer.start()
    wait_for(lambda: server.llen(f"{PREFIX}:ops") == 25, what="a full queue")
    time.sleep(0.3)
    assert producer.is_alive() and server.llen(f"{PREFIX}:ops") == 25 and client.waits == 1
    queue = RedisQueue(server, PREFIX, translate=translator(server, PREFIX))
    writer = ArchiveWriter(tmp_path / "archive.db", batch_size=10, commit_seconds=0.05,
                           queue=queue)
    while producer.is_alive():
        depths.append(queue.depth())
        time.sleep(0.005)
    client.flush().result(30)
    writer.close()
    client.close()
    assert max(depths) <= 25
    assert Database(tmp_path / "archive.db")["teasers"].count == 300


def test_named_requests_are_answered_after_what_was_put_before(
        redis_url: str, tmp_path: Path, writers: list[Writer]) -> None:
    writer = start(writers, redis_url, tmp_path, "HRARCHIVE_COMMIT_SECONDS=0.2")
    server = redis.Redis.from_url(redis_url)
    client = WriterClient(redis_url, PREFIX)
    for name in ("host-a:1", "host-b:2"):
        server.set(worker_key(PREFIX, name), "alive", ex=60)
    assert client.request("save_site", {"id": "ngo", "name": "An NGO", "base_url":
                                        "https://ngo.example/", "languages": ["en"]}
                          ).result(20) is None
    crawl_id = client.request("start_crawl", {"site": "ngo", "run": "2026-11-30T00",
                                              "worker": "host-a:1"}).result(20)
    for i in range(3):
        client.put(Op(ARTICLE, story(i), crawl_id=crawl_id))
    client.put(Op(TEASER, teaser(9), crawl_id=crawl_id))  # teased, never archived
    joined = client.request("start_crawl", {"site": "ngo", "run": "2026-11-30T00",
                                            "worker": "host-b:2"}).result(20)
    assert joined == crawl_id  # one row per site and run
    state = client.request("site_state", {"site": "ngo", "crawl_id": crawl_id}).result(20)
    assert sorted(state.stories) == [f"https://ngo.example/news/{i}" for i in range(3)]
    assert state.missing == ["https://ngo.example/news/9"]
    assert published_state(server, PREFIX, "ngo") == state
    for worker, new in (("host-a:1", 1), ("host-b:2", 2)):
        client.request("finish_crawl", {"crawl_id": crawl_id, "status": "finished",
                                        "reason": "finished", "worker": worker,
                                        "counts": {"articles_new": new}, "stats": {}}
                       ).result(20)
    assert client.flush().result(20) is None
    second = run_hrarchive("writer", "--redis", redis_url, "--db", str(tmp_path / "other.db"),
                           "--prefix", PREFIX)
    assert second.returncode == 1 and "another writer" in second.stderr
    with pytest.raises(ValueError, match="unknown request"):
        client.request("drop_everything")
    client.close()
    assert writer.stop() == 0
    row = Database(tmp_path / "archive.db")["crawls"].get(crawl_id)
    assert (row["status"], row["run"], row["articles_new"]) == ("finished", "2026-11-30T00", 3)
    assert [(w["name"], w["status"]) for w in json.loads(row["workers"])] == \
        [("host-a:1", "done"), ("host-b:2", "done")]
    assert Database(tmp_path / "archive.db")["sites"].get("ngo")["name"] == "An NGO"


def test_a_worker_whose_heartbeat_lapses_is_recorded_dead_and_stats_show_it(
        redis_url: str, tmp_path: Path, writers: list[Writer]) -> None:
    writer = start(writers, redis_url, tmp_path, "HRARCHIVE_COMMIT_SECONDS=0.2")
    server = redis.Redis.from_url(redis_url)
    client = WriterClient(redis_url, PREFIX)
    server.set(worker_key(PREFIX, "host-c:3"), "alive", px=600)  # never renewed: it died
    server.set(worker_key(PREFIX, "host-d:4"), "alive", ex=60)
    died = client.request("start_crawl", {"site": "ngo", "run": "r1",
                                          "worker": "host-c:3"}).result(20)
    alive = client.request("start_crawl", {"site": "other", "run": "r1",
                                           "worker": "host-d:4"}).result(20)
    path = tmp_path / "archive.db"

    def status(crawl_id: int) -> str:
        return str(Database(path)["crawls"].get(crawl_id)["status"])

    wait_for(lambda: status(died) == "interrupted", what="the dead worker recorded")
    client.close()
    assert writer.stop() == 0
    rows = Database(path)["crawls"]
    assert json.loads(rows.get(died)["workers"])[0]["status"] == "died"
    assert "host-c:3 died" in rows.get(died)["finish_reason"]
    assert status(alive) == "running"
    stats = run_hrarchive("stats", "--db", str(path))
    assert "ngo: run 1 (r1): worker host-c:3 died" in stats.stderr
    assert status(alive) == "running"  # a worker's row is judged by heartbeat, not pid


def test_an_unreachable_redis_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    done = run_hrarchive("writer", "--redis", f"redis://127.0.0.1:{port}/0",
                         "--db", str(tmp_path / "archive.db"))
    assert done.returncode == 1
    assert f"cannot reach Redis at redis://127.0.0.1:{port}/0" in done.stderr
    assert not (tmp_path / "archive.db").exists()
