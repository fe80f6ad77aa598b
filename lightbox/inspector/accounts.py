"""Inspector accounts and sign-in sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults: memory-hard, 64 MiB, 3 passes).
The app's database role cannot read the hashes: a sign-in fetches the hash's parameters and
salt, hashes the offered password with them, and the database compares and creates the
session (``licensing.inspector_sign_in``); an unknown name costs a dummy hash, so that timing
does not tell which names exist. A session is a random 256-bit token in an HttpOnly cookie; the
database keeps only its SHA-256, with the session's CSRF token (synchronizer pattern: every
form and every API write must send it back). Disabling an inspector ends their sessions
and returns their claims to the queue.
"""
from __future__ import annotations

import base64
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


def _candidate(conn, name: str, password: str) -> str | None:
    """The argon2 hash of ``password`` made with the stored parameters and salt of ``name``'s
    hash (``licensing.inspector_hash_params``), or None for a name that cannot sign in. The
    stored hash itself never leaves the database: it compares the candidate. An unknown name
    costs the same hashing work, so timing does not tell which names exist."""
    from argon2 import Type
    from argon2.low_level import hash_secret

    global _DUMMY_HASH
    row = None
    if NAME_RE.match(name or "") and password:
        with conn, conn.cursor() as cur:
            cur.execute("select params, hash_chars from licensing.inspector_hash_params(%s)", (name,))
            row = cur.fetchone()
    secret = (password or "x")[:1024].encode()
    if row is None or row[0] is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher().hash(secrets.token_hex(16))
        from argon2.exceptions import VerificationError

        try:
            _hasher().verify(_DUMMY_HASH, secret)
        except VerificationError:  # the dummy never matches; only its cost matters
            pass
        return None
    params, hash_chars = row
    try:
        _, variant, version, costs, salt_b64 = params.split("$")
        if variant != "argon2id":
            return None
        cost = dict(part.split("=") for part in costs.split(","))
        salt = base64.b64decode(salt_b64 + "=" * (-len(salt_b64) % 4))
        encoded = hash_secret(
            secret, salt, time_cost=int(cost["t"]), memory_cost=int(cost["m"]), parallelism=int(cost["p"]),
            hash_len=hash_chars * 3 // 4, type=Type.ID, version=int(version.removeprefix("v=")),
        )
    except (ValueError, KeyError):
        return None
    return encoded.decode()


def authenticate(conn, name: str, password: str) -> bool:
    """True when ``name`` is an enabled inspector and ``password`` is theirs (the CLI's check;
    ``conn`` reads the accounts table, which the app's role cannot)."""
    candidate = _candidate(conn, name, password)
    if candidate is None:
        return False
    with conn, conn.cursor() as cur:
        cur.execute("select password_hash = %s from licensing.inspectors where inspector_id = %s", (candidate, name))
        row = cur.fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class Session:
    inspector_id: str
    csrf_token: str
    token: str | None = None  # only when just created (it goes into the cookie)

    @property
    def digest(self) -> str | None:
        return _digest(self.token) if self.token else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_digest(token: str | None) -> str | None:
    """What the database knows a session by: the SHA-256 of the cookie's token."""
    return _digest(token) if token and len(token) <= 200 else None


def sign_in(conn, name: str, password: str) -> Session | None:
    """A new session for ``name`` when ``password`` is theirs (checked by the database:
    ``licensing.inspector_sign_in``), else None."""
    candidate = _candidate(conn, name, password)
    if candidate is None:
        return None
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with conn, conn.cursor() as cur:
        cur.execute("select licensing.inspector_sign_in(%s, %s, %s, %s, %s)",
                    (name, candidate, _digest(token), csrf, session_hours()))
        ok = cur.fetchone()[0]
    return Session(name, csrf, token) if ok else None


def lookup_session(conn, token: str | None) -> Session | None:
    """The live session of a cookie's token, or None (unknown, expired, or disabled)."""
    digest = session_digest(token)
    if digest is None:
        return None
    with conn, conn.cursor() as cur:
        cur.execute("select inspector_id, csrf_token from licensing.inspector_session(%s)", (digest,))
        row = cur.fetchone()
    return Session(row[0], row[1]) if row else None


def end_session(conn, token: str | None) -> None:
    digest = session_digest(token)
    if digest is None:
        return
    with conn, conn.cursor() as cur:
        cur.execute("select licensing.inspector_sign_out(%s)", (digest,))


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and secrets.compare_digest(session.csrf_token.encode(), str(sent).encode())
