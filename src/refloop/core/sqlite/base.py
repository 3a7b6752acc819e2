"""Django's SQLite backend, with a process's write transactions queued on a lock of its own.

SQLite runs one write transaction at a time; refloop's start with BEGIN IMMEDIATE, so a
second writer waits in SQLite's busy handler, which polls by sleeping 1, 2, 5 … up to 100 ms
between tries. With a web server's threads all writing, a waiter could sleep through the
moment the lock came free again and again: intakes queued behind one another, throughput
stayed flat with more connections, and p99 reached seconds (issue 19). Threads of one
process now queue on a lock that hands over at once; only the processes still meet in
SQLite's handler. What runs at a time is unchanged: SQLite already allowed one writer.
"""

import functools
import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_WRITER = threading.Lock()
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _take_writer(timeout: float) -> None:
    if not _WRITER.acquire(timeout=timeout):
        raise OperationalError("database is locked (another thread's write transaction)")


@functools.lru_cache(maxsize=2048)
def _qmark(query: str) -> str:
    """Django's "format" to sqlite3's "qmark" parameters, once per statement text (a regular
    expression over every statement of every request was a few percent of an intake)."""
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class _Cursor(base.SQLiteCursorWrapper):
    """A write outside any transaction (the task queued after a commit, a token's last use)
    is a write transaction of its own: it queues on the same lock as BEGIN IMMEDIATE, where
    it used to meet other threads' transactions in SQLite's sleeping busy handler."""

    writer_timeout: float = 5

    def execute(self, query, params=None):
        if not self._autocommit_write(query):
            return super().execute(query, params)
        _take_writer(self.writer_timeout)
        try:
            return super().execute(query, params)
        finally:
            _WRITER.release()

    def executemany(self, query, param_list):
        if not self._autocommit_write(query):
            return super().executemany(query, param_list)
        _take_writer(self.writer_timeout)
        try:
            return super().executemany(query, param_list)
        finally:
            _WRITER.release()

    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)

    def _autocommit_write(self, query: str) -> bool:
        # Inside a transaction this thread holds the lock already (BEGIN IMMEDIATE took it).
        return not self.connection.in_transaction and query.lstrip()[:7].upper().startswith(_WRITES)


# Django's stubs do not declare the backend's transaction hooks this class overrides.
_SQLite: Any = base.DatabaseWrapper


class DatabaseWrapper(_SQLite):
    _holds_writer = False

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode != "IMMEDIATE":
            super()._start_transaction_under_autocommit()
            return
        _take_writer(self.settings_dict["OPTIONS"].get("timeout", 5))
        self._holds_writer = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=_Cursor)
        cursor.writer_timeout = self.settings_dict["OPTIONS"].get("timeout", 5)
        return cursor

    def _release_writer(self):
        if self._holds_writer:
            self._holds_writer = False
            _WRITER.release()

    def _commit(self):
        try:
            super()._commit()
        finally:
            self._release_writer()

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._release_writer()

    def _close(self):
        try:
            super()._close()
        finally:
            self._release_writer()
