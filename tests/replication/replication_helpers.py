"""Helpers for the replication tests: raw rows written with SQL, small JPEGs in the landing
folder, and store wrappers that crash or record."""
from __future__ import annotations

import hashlib
import io
import random
import re
from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def jpeg_bytes(seed: int, size: int = 24) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (size, size))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(size * size)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


class Raw:
    """Writes raw.users / raw.photos / raw.region_consents rows the way ingest would."""

    def __init__(self, conn, landing):
        self.conn, self.landing = conn, landing
        self.line = 0

    def _meta(self):
        self.line += 1
        return (1, self.line, T0)

    def user(self, user_id: str, deleted_at=None) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                """insert into raw.users (user_id, username, joined_at, auto_licensing, default_exclusive,
                       updated_at, deleted_at, _file_id, _line, _arrived_at)
                   values (%s, %s, %s, false, false, %s, %s, %s, %s, %s)
                   on conflict (user_id) do update set deleted_at = excluded.deleted_at""",
                (user_id, user_id, T0, T0, deleted_at, *self._meta()),
            )

    def photo(self, photo_id: str, owner_id: str, seed: int | None = None, exclusive: bool = False,
              deleted_at=None, with_sha: bool = True, data: bytes | None = None) -> bytes:
        data = data if data is not None else jpeg_bytes(seed if seed is not None else hash(photo_id) % 10_000)
        # odd ids (tabs, backslashes) get a plain file name: the landing contract refuses such paths
        name = photo_id if re.fullmatch(r"[\w.-]+", photo_id) else hashlib.sha256(photo_id.encode()).hexdigest()[:16]
        path = f"images/{name}.jpg"
        target = self.landing / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest() if with_sha else None
        with self.conn.cursor() as cur:
            cur.execute(
                """insert into raw.photos (photo_id, owner_id, uploaded_at, submitted_for_licensing,
                       removed_from_licensing, exclusive, image_path, sha256, updated_at, deleted_at,
                       _file_id, _line, _arrived_at)
                   values (%s, %s, %s, false, false, %s, %s, %s, %s, %s, %s, %s, %s)
                   on conflict (photo_id) do update set exclusive = excluded.exclusive,
                       image_path = excluded.image_path, sha256 = excluded.sha256,
                       deleted_at = excluded.deleted_at""",
                (photo_id, owner_id, T0, exclusive, path, sha, T0, deleted_at, *self._meta()),
            )
        return data

    def delete_photo(self, photo_id: str, at=T0) -> None:
        with self.conn.cursor() as cur:
            cur.execute("update raw.photos set deleted_at = %s where photo_id = %s", (at, photo_id))

    def delete_user(self, user_id: str, at=T0) -> None:
        with self.conn.cursor() as cur:
            cur.execute("update raw.users set deleted_at = %s where user_id = %s", (at, user_id))

    def consent(self, event_id: str, user_id: str, region: str, action: str, at, photo_id: str | None = None) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                """insert into raw.region_consents (event_id, user_id, region, photo_id, action, at,
                       _file_id, _line, _arrived_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (event_id, user_id, region, photo_id, action, at, *self._meta()),
            )


class CrashingStore:
    """Wraps a RegionStore; raises ``Crash`` once ``budget`` store operations have run (the
    crash happens between operations; a crashing put may first write a torn object)."""

    class Crash(RuntimeError):
        pass

    def __init__(self, inner, budget: int | None = None, torn: bool = False, journal: list | None = None, probe=None):
        self.inner, self.budget, self.torn = inner, budget, torn
        self.journal = journal if journal is not None else []
        # probe(): the last committed audit_id, recorded with every write and delete
        self.probe = probe or (lambda: None)

    def _tick(self):
        if self.budget is not None:
            if self.budget <= 0:
                raise CrashingStore.Crash("injected crash")
            self.budget -= 1

    def list(self):
        self._tick()
        return self.inner.list()

    def get(self, key):
        self._tick()
        return self.inner.get(key)

    def put(self, key, data):
        if self.budget is not None and self.budget <= 0 and self.torn and len(data) > 1:
            self.journal.append(("put", key, self.probe()))
            self.inner.put(key, data[: len(data) // 2])
        self._tick()
        self.journal.append(("put", key, self.probe()))
        self.inner.put(key, data)

    def delete(self, key):
        self._tick()
        self.journal.append(("delete", key, self.probe()))
        self.inner.delete(key)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)
