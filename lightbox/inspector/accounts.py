"""Inspector accounts and sign-in sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults: memory-hard, 64 MiB, 3 passes);
a sign-in compares against a dummy hash when the name is unknown, so that timing does not
tell which names exist. A session is a random 256-bit token in an HttpOnly cookie; the
database keeps only its SHA-256, with the session's CSRF token (synchronizer pattern: every
form and every API write must send it back). Disabling an inspector ends their sessions
and returns their claims to the queue.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_PASSWORD = 8


class AccountError(ValueError):
    pass


# argon2id parameters (argon2-cffi's RFC 9106 "low memory" defaults: 64 MiB, 3 passes, 4
# lanes). Tests lower them (a fixture) to stay fast; a stored hash carries its own
# parameters, so verification always uses the ones it was made with.
HASH_PARAMS: dict = {}


def _hasher():
    from argon2 import PasswordHasher  # argon2id by default

    return PasswordHasher(**HASH_PARAMS)


_DUMMY_HASH: str | None = None


def session_hours(env=None) -> float:
    env = os.environ if env is None else env
    return float(env.get("LIGHTBOX_INSPECTOR_SESSION_HOURS", "12"))


def validate_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise AccountError("an inspector name is 1-64 letters, digits, '.', '_' or '-'")
    return name


def add_inspector(conn, name: str, password: str) -> bool:
    """Create an inspector, or set a new password and re-enable an existing one.
    Returns True when the account is new. ``conn`` needs write access (the CLI's)."""
    validate_name(name)
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    digest = _hasher().hash(password)
    with conn, conn.cursor() as cur:
        cur.execute(
            """
            insert into licensing.inspectors (inspector_id, password_hash)
            values (%s, %s)
            on conflict (inspector_id) do update
               set password_hash = excluded.password_hash, is_disabled = false, updated_at = now()
            returning (xmax = 0)
            """,
            (name, digest),
        )
        created = cur.fetchone()[0]
        if not created:  # a new password ends the old sessions
            cur.execute("delete from licensing.inspector_sessions where inspector_id = %s", (name,))
    return created


def disable_inspector(conn, name: str) -> bool:
    """Disable an inspector: no sign-in, sessions ended, claims back to the queue."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "update licensing.inspectors set is_disabled = true, updated_at = now() where inspector_id = %s",
            (name,),
        )
        found = cur.rowcount == 1
        cur.execute("delete from licensing.inspector_sessions where inspector_id = %s", (name,))
        cur.execute(
            """
            update licensing.review_queue set status = 'pending', claimed_by = null, claimed_at = null
             where status = 'claimed' and claimed_by = %s
            """,
            (name,),
        )
    return found


def list_inspectors(conn) -> list[dict]:
    with conn, conn.cursor() as cur:
        cur.execute("select inspector_id, is_disabled, created_at from licensing.inspectors order by 1")
        return [{"inspector_id": r[0], "is_disabled": r[1], "created_at": r[2]} for r in cur.fetchall()]


def authenticate(conn, name: str, password: str) -> bool:
    """True when ``name`` is an enabled inspector and ``password`` is theirs."""
    from argon2.exceptions import VerificationError, InvalidHashError

    global _DUMMY_HASH
    hasher = _hasher()
    row = None
    if NAME_RE.match(name or "") and password:
        with conn, conn.cursor() as cur:
            cur.execute(
                "select password_hash from licensing.inspectors where inspector_id = %s and not is_disabled",
                (name,),
            )
            row = cur.fetchone()
    if row is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hasher.hash(secrets.token_hex(16))
        try:
            hasher.verify(_DUMMY_HASH, (password or "x")[:1024])
        except VerificationError:
            pass
        return False
    try:
        return hasher.verify(row[0], password[:1024])
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Session:
    inspector_id: str
    csrf_token: str
    token: str | None = None  # only when just created (it goes into the cookie)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(conn, name: str) -> Session:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with conn, conn.cursor() as cur:
        # Ended sessions are cleaned up here, a sign-in being rare next to requests.
        cur.execute("delete from licensing.inspector_sessions where expires_at < now()")
        cur.execute(
            """
            insert into licensing.inspector_sessions (session_hash, inspector_id, csrf_token, expires_at)
            values (%s, %s, %s, now() + %s * interval '1 hour')
            """,
            (_digest(token), name, csrf, session_hours()),
        )
    return Session(name, csrf, token)


def lookup_session(conn, token: str | None) -> Session | None:
    """The live session of a cookie's token, or None (unknown, expired, or disabled)."""
    if not token or len(token) > 200:
        return None
    with conn, conn.cursor() as cur:
        cur.execute(
            """
            select s.inspector_id, s.csrf_token
              from licensing.inspector_sessions s
              join licensing.inspectors i on i.inspector_id = s.inspector_id
             where s.session_hash = %s and s.expires_at > now() and not i.is_disabled
            """,
            (_digest(token),),
        )
        row = cur.fetchone()
    return Session(row[0], row[1]) if row else None


def end_session(conn, token: str | None) -> None:
    if not token:
        return
    with conn, conn.cursor() as cur:
        cur.execute("delete from licensing.inspector_sessions where session_hash = %s", (_digest(token),))


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and secrets.compare_digest(session.csrf_token.encode(), str(sent).encode())
