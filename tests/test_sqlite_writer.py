"""refloop's SQLite backend queues a process's write transactions on a lock of its own
(refloop.core.sqlite): it is taken at BEGIN IMMEDIATE and given back on every way out."""

import threading

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from refloop.core.sqlite import base as writer
from refloop.settings import sqlite_database


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker):
    """These tests open their own SQLite files, whatever database the suite runs on."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def sqlite(tmp_path):
    handler = ConnectionHandler({"default": sqlite_database(tmp_path / "writer.sqlite3")})
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    yield connection
    connection.close()


def _insert(connection, n: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO t (n) VALUES (%s)", [n])


def _begin(connection) -> None:
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def test_the_lock_is_held_for_the_transaction_and_given_back_on_commit(sqlite):
    _begin(sqlite)
    _insert(sqlite, 1)
    assert writer._WRITER.locked()
    sqlite.commit()
    sqlite.set_autocommit(True)
    assert not writer._WRITER.locked()


def test_the_lock_is_given_back_on_rollback_and_on_close(sqlite):
    _begin(sqlite)
    _insert(sqlite, 1)
    sqlite.rollback()
    sqlite.set_autocommit(True)
    assert not writer._WRITER.locked()
    _begin(sqlite)
    assert writer._WRITER.locked()
    sqlite.close()
    assert not writer._WRITER.locked()


def test_a_second_thread_waits_for_the_first_to_commit(sqlite, tmp_path):
    """The second writer starts only once the first has committed, and sees its row."""
    order = []

    def second():
        other = ConnectionHandler({"default": sqlite_database(tmp_path / "writer.sqlite3")})[
            "default"
        ]
        _begin(other)
        order.append("second began")
        with other.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM t")
            order.append(cursor.fetchone()[0])
        other.commit()
        other.close()

    _begin(sqlite)
    _insert(sqlite, 1)
    thread = threading.Thread(target=second)
    thread.start()
    order.append("first committing")
    sqlite.commit()
    sqlite.set_autocommit(True)
    thread.join()
    assert order == ["first committing", "second began", 1]


def test_a_writer_that_waits_past_the_timeout_is_told_the_database_is_locked(tmp_path):
    settings = sqlite_database(tmp_path / "writer.sqlite3")
    settings["OPTIONS"]["timeout"] = 0.05
    first = ConnectionHandler({"default": settings})["default"]
    _begin(first)
    errors = []

    def second():
        other = ConnectionHandler({"default": settings})["default"]
        try:
            _begin(other)
        except OperationalError as error:
            errors.append(str(error))
        other.close()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join()
    first.rollback()
    first.close()
    assert errors and "locked" in errors[0]


def test_a_write_outside_a_transaction_queues_behind_another_threads_transaction(sqlite, tmp_path):
    """An autocommit write (the task an intake queues after its commit) is a write
    transaction of its own: it waits on the lock, not in SQLite's busy handler, which here
    is told not to wait at all, so a write that skipped the lock would fail at once."""
    trying, results = threading.Event(), []

    def second():
        other = ConnectionHandler({"default": sqlite_database(tmp_path / "writer.sqlite3")})[
            "default"
        ]
        other.ensure_connection()
        other.connection.execute("PRAGMA busy_timeout = 0")
        trying.set()
        try:
            _insert(other, 2)
            results.append("inserted")
        except OperationalError as error:
            results.append(str(error))
        other.close()

    _begin(sqlite)
    _insert(sqlite, 1)
    thread = threading.Thread(target=second)
    thread.start()
    trying.wait()
    thread.join(0.3)  # the second writer has had time to try; it must still be waiting
    assert results == []
    sqlite.commit()
    sqlite.set_autocommit(True)
    thread.join()
    assert results == ["inserted"]
    with sqlite.cursor() as cursor:
        cursor.execute("SELECT n FROM t ORDER BY n")
        assert cursor.fetchall() == [(1,), (2,)]


def test_statements_keep_their_parameters_and_literal_percent_signs(sqlite):
    for _ in range(2):  # the second time from the converted statements kept
        with sqlite.cursor() as cursor:
            cursor.execute("SELECT %s || '%%', %s", ["a", 1])
            assert cursor.fetchone() == ("a%", 1)
