"""Before a crawl writes an archive file: can it be written, is it an hrarchive archive, and is
no other crawl writing it?  Each check reads only, so a refused archive is left as it was."""

from __future__ import annotations

import os
import socket
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from hrarchive.store.state import process_alive

# Tables every hrarchive archive has had since its first schema.
CORE_TABLES = frozenset({"sites", "crawls", "articles"})


class ArchiveError(Exception):
    """The archive file cannot be used; the message says why and what to do."""


def check_archive(path: str | Path, workers_write: bool = False) -> None:
    """Raise :class:`ArchiveError` unless a crawl may write ``path``: the file (or, if it is
    new, the folder it goes in) is writable, an existing file is an hrarchive archive (or an
    empty SQLite file), and no crawl of another live process is running on it.
    ``workers_write``: the caller is ``hrarchive writer``, which writes the runs of crawler
    workers itself (rows with a ``run``): only other crawls count."""
    file = Path(path)
    if file.exists():
        if not file.is_file():
            raise ArchiveError(f"{file} is not a file")
        _check_writable_file(file)
        _check_is_archive(file)
        _check_no_other_crawl(file, workers_write)
    else:
        _check_writable_folder(file)


def _check_writable_folder(file: Path) -> None:
    """The folder of a new archive (or its nearest existing ancestor) takes new files."""
    folder = file.parent.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ArchiveError(f"cannot create the archive {file}: {folder} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ArchiveError(f"cannot create the archive {file}: the folder {folder} is not "
                           f"writable ({exc.strerror}); choose another --db") from exc


def _check_writable_file(file: Path) -> None:
    """The file opens for writing (nothing is written) and its folder takes SQLite's WAL."""
    try:
        with file.open("r+b"):
            pass
    except OSError as exc:
        raise ArchiveError(f"cannot write the archive {file}: {exc.strerror}; check its "
                           "permissions, or choose another --db") from exc
    if not os.access(file.parent.absolute(), os.W_OK):
        raise ArchiveError(f"cannot write the archive {file}: its folder is not writable "
                           "(SQLite keeps its write-ahead log beside it)")


def _read_only(file: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(f"{file.absolute().as_uri()}?mode=ro", uri=True))


def _check_is_archive(file: Path) -> None:
    """An existing file is an SQLite database with hrarchive's tables, or an empty one."""
    if file.stat().st_size == 0:
        return
    try:
        with _read_only(file) as connection:
            tables = {row[0] for row in connection.execute(
                "select name from sqlite_master where type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"{file} is not an hrarchive archive (not an SQLite file: {exc}); "
                           "choose another --db") from exc
    if tables and not tables >= CORE_TABLES:
        raise ArchiveError(f"{file} is not an hrarchive archive (an SQLite file without its "
                           f"tables {', '.join(sorted(CORE_TABLES - tables))}); "
                           "choose another --db")


def _check_no_other_crawl(file: Path, workers_write: bool = False) -> None:
    """No ``running`` crawl of another process that is still alive writes the archive."""
    try:
        with _read_only(file) as connection:
            columns = {row[1] for row in connection.execute("pragma table_info(crawls)")}
            own = " and run is null" if workers_write and "run" in columns else ""
            rows = connection.execute(
                "select id, site, pid, host, process_started, started from crawls "
                f"where status = 'running'{own}").fetchall()
    except sqlite3.OperationalError:  # an empty file: no crawls table yet
        return
    for crawl_id, site, pid, host, started_at, started in rows:
        if pid == os.getpid() and host == socket.gethostname():
            continue
        if process_alive(pid, host, started_at):
            raise ArchiveError(f"another crawl is writing {file} (run {crawl_id} of {site}, "
                               f"process {pid} on {host}, started {started}); wait for it to "
                               "finish, or use another --db")
