"""The tests' redis-server fixture: a real server, one per test, gone afterwards."""

from __future__ import annotations

import redis

from tests.redisserver import RedisServer


def test_a_real_server_answers_and_stops(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.rpush("hrarchive:test", b"one", b"two")
    assert client.lmove("hrarchive:test", "hrarchive:processing", "LEFT", "RIGHT") == b"one"
    assert client.lrange("hrarchive:processing", 0, -1) == [b"one"]
    assert client.info("server")["redis_version"]
    redis_server.stop()
    try:
        redis.Redis.from_url(redis_server.url, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        return
    raise AssertionError("redis-server still answers after stop()")
