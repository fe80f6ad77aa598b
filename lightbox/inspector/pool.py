"""The inspector app's database connections: a small blocking pool of psycopg2 connections
logged in as the app's own role, never as a superuser.

The login role is ``lightbox_inspector`` (a member of ``inspector_app``; both created by the
schema, its password set by ``lightbox db start`` from ``LIGHTBOX_INSPECTOR_DB_PASSWORD``).
``LIGHTBOX_INSPECTOR_DATABASE_URL`` names it explicitly (the cluster); otherwise the app takes
the warehouse URL with that user. A connection whose user is (or may become) a superuser, a
role that bypasses row-level security, or the owner of the queue is refused: ``reset role``
would undo any ``set role``, and owners are not subject to row-level security.

Each checkout presents the request's session to the database
(``set_config('lightbox.session', <sha256 of the cookie's token>)``): the row-level security
of the queue and the decisions lets the app write only under that session's inspector.
"""
from __future__ import annotations

import contextlib
import logging
import os
import queue as queue_module
import threading
from urllib.parse import quote, urlsplit, urlunsplit

from fastapi.exceptions import HTTPException

log = logging.getLogger(__name__)

LOGIN_ROLE = "lightbox_inspector"
APP_ROLE = "inspector_app"


class UnsafeDatabaseRole(RuntimeError):
    """The app was given a connection with more rights than its role."""


def inspector_url(warehouse_url: str, password: str | None = None) -> str:
    """``warehouse_url`` with the app's login role as its user."""
    parts = urlsplit(warehouse_url)
    password = os.environ.get("LIGHTBOX_INSPECTOR_DB_PASSWORD") if password is None else password
    host = parts.netloc.rpartition("@")[2]
    auth = LOGIN_ROLE + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit((parts.scheme, f"{auth}@{host}", parts.path, parts.query, parts.fragment))


def database_url() -> str:
    explicit = os.environ.get("LIGHTBOX_INSPECTOR_DATABASE_URL")
    if explicit:
        return explicit
    from lightbox import db

    return inspector_url(db.warehouse_url())


def set_login_password(admin_conn, password: str | None = None) -> bool:
    """Give the app's login role its password (``LIGHTBOX_INSPECTOR_DB_PASSWORD``), on a
    connection that may alter roles. False when no password is configured."""
    from psycopg2 import sql

    password = os.environ.get("LIGHTBOX_INSPECTOR_DB_PASSWORD") if password is None else password
    if not password:
        return False
    with admin_conn.cursor() as cur:
        cur.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(LOGIN_ROLE), sql.Literal(password)))
    admin_conn.commit()
    return True


class ConnectionPool:
    def __init__(self, url: str, size: int = 12):
        self.url = url
        self.size = size
        self._idle: queue_module.LifoQueue = queue_module.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._all: list = []
        self._presented: dict[int, str] = {}  # id(conn) -> the session digest it presents
        self.user: str | None = None

    def _connect(self):
        import psycopg2

        conn = psycopg2.connect(self.url, application_name="lightbox-inspector")
        with conn.cursor() as cur:
            # Refused: a login that is, or may become, a superuser, a role that bypasses
            # row-level security, or the owner of the queue (owners are not subject to it).
            cur.execute(
                """select current_user,
                          exists (select 1 from pg_roles r
                                   where (r.rolsuper or r.rolbypassrls) and pg_has_role(current_user, r.oid, 'member'))
                          or coalesce(pg_has_role(current_user, (select relowner from pg_class
                                  where oid = to_regclass('licensing.review_queue')), 'member'), false)"""
            )
            user, privileged = cur.fetchone()
        conn.commit()
        if privileged:
            conn.close()
            raise UnsafeDatabaseRole(
                f"the inspector app refuses to run as {user!r}: it is (or may become) a superuser, a role that "
                f"bypasses row-level security, or the queue's owner; connect as {LOGIN_ROLE} "
                "(LIGHTBOX_INSPECTOR_DATABASE_URL)"
            )
        # Autocommit: each queue operation is one atomic statement string, one round trip.
        conn.autocommit = True
        self.user = user
        self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def connection(self, session_digest: str | None = None):
        """A connection presenting ``session_digest`` (None: no session) to the database."""
        if not self._slots.acquire(timeout=30):
            raise HTTPException(503, "The database is busy; try again.")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue_module.Empty:
                conn = self._connect()
            wanted = session_digest or ""
            if self._presented.get(id(conn)) != wanted:
                with conn.cursor() as cur:
                    cur.execute("select set_config('lightbox.session', %s, false)", (wanted,))
                self._presented[id(conn)] = wanted
            yield conn
        finally:
            if conn is not None:
                self._put_back(conn)
            self._slots.release()

    def _put_back(self, conn) -> None:
        import psycopg2.extensions as ext

        try:
            if not conn.closed and conn.get_transaction_status() != ext.TRANSACTION_STATUS_IDLE:
                conn.rollback()
        except Exception:  # noqa: BLE001 - a broken connection is dropped below
            pass
        if conn.closed:
            with contextlib.suppress(ValueError):
                self._all.remove(conn)
            self._presented.pop(id(conn), None)
            return
        self._idle.put(conn)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait()
            except queue_module.Empty:
                break
        for conn in list(self._all):
            with contextlib.suppress(Exception):
                conn.close()
        self._all.clear()
        self._presented.clear()
