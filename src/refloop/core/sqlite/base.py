"""Django's SQLite backend, with a process's write transactions queued on a lock of its own.

SQLite runs one write transaction at a time; refloop's start with BEGIN IMMEDIATE, so a
second writer waits in SQLite's busy handler, which polls by sleeping 1, 2, 5 … up to 100 ms
between tries. With a web server's threads all writing, a waiter could sleep through the
moment the lock came free again and again: intakes queued behind one another, throughput
stayed flat with more connections, and p99 reached seconds (issue 19). Threads of one
process now queue on a lock that hands over at once; only the processes still meet in
SQLite's handler. What runs at a time is unchanged: SQLite already allowed one writer.
"""

import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_WRITER = threading.Lock()

# Django's stubs do not declare the backend's transaction hooks this class overrides.
_SQLite: Any = base.DatabaseWrapper


class DatabaseWrapper(_SQLite):
    _holds_writer = False

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode != "IMMEDIATE":
            super()._start_transaction_under_autocommit()
            return
        timeout = self.settings_dict["OPTIONS"].get("timeout", 5)
        if not _WRITER.acquire(timeout=timeout):
            raise OperationalError("database is locked (another thread's write transaction)")
        self._holds_writer = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

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
