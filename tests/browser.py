"""Headless Chromium driven over the DevTools protocol (aiohttp's WebSocket client): load a
page in a window of a given size, evaluate JavaScript in it, take a screenshot.

``chromium()`` finds the browser (``HRARCHIVE_CHROMIUM``, else ``chromium`` on the PATH);
``browser()`` skips the test with how to get one when there is none, and fails it under
``HRARCHIVE_REQUIRE_TOOLS=1`` (``tests/tools.py``).  Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.tools import find_tool, require_tool

WIDTH, HEIGHT = 1280, 1000
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0")


def chromium() -> str | None:
    return find_tool("chromium", env="HRARCHIVE_CHROMIUM")


class Browser:
    """One headless Chromium; ``load`` opens a page in its tab."""

    def __init__(self, port: int) -> None:
        self.port = port

    def _page_socket(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            targets = json.load(r)
        return str(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])

    def load(self, url: str, script: str, screenshot: Path | None = None) -> Any:
        """Open ``url`` in a WIDTH x HEIGHT window, wait for it to load, return the value of
        ``script`` (a JavaScript expression) and save the first screen as a PNG."""
        return asyncio.run(self._load(url, script, screenshot))

    async def _load(self, url: str, script: str, screenshot: Path | None) -> Any:
        ids = itertools.count(1)
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(self._page_socket(), max_msg_size=0) as ws:
            async def call(method: str, **params: Any) -> dict[str, Any]:
                number = next(ids)
                await ws.send_json({"id": number, "method": method, "params": params})
                async for message in ws:
                    data = json.loads(message.data)
                    if data.get("id") == number:
                        if "error" in data:
                            raise RuntimeError(f"{method}: {data['error']}")
                        return dict(data["result"])
                raise RuntimeError(f"{method}: the browser closed the connection")

            async def evaluate(expression: str) -> Any:
                result = await call("Runtime.evaluate", expression=expression,
                                    returnByValue=True, awaitPromise=True)
                if "exceptionDetails" in result:
                    raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
                return result["result"].get("value")

            await call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
                       deviceScaleFactor=1, mobile=False)
            await call("Page.enable")
            await ws.send_json({"id": 0, "method": "Page.navigate", "params": {"url": url}})
            loaded = False
            async with asyncio.timeout(30):
                async for message in ws:
                    data = json.loads(message.data)
                    if data.get("id") == 0 and "errorText" in data.get("result", {}):
                        raise RuntimeError(f"{url}: {data['result']['errorText']}")
                    if data.get("method") == "Page.loadEventFired":
                        loaded = True
                        break
            assert loaded, f"{url}: the browser closed the connection"
            value = await evaluate(script)
            if screenshot is not None:
                shot = await call("Page.captureScreenshot", format="png")
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            return value


@contextmanager
def browser() -> Iterator[Browser]:
    """A headless Chromium on a free DevTools port, with a fresh profile."""
    binary = require_tool("chromium", env="HRARCHIVE_CHROMIUM")
    # Chromium's helper processes may still write the profile for a moment after it exits.
    with tempfile.TemporaryDirectory(prefix="hrarchive-chromium-",
                                     ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}",
                                 f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            active = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not active.exists() or not active.read_text().strip():
                if proc.poll() is not None or time.monotonic() > deadline:
                    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise AssertionError(f"Chromium did not start: {stderr[-2000:]}")
                time.sleep(0.1)
            yield Browser(int(active.read_text().split()[0]))
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
