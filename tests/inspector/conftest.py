"""Fixtures of the inspector tests: a queue seeded straight into the test database (photos
with tiny JPEGs in the landing folder, scores, review_queue rows), inspector accounts, and
an HTTP client of the app connected as its own login role (``lightbox_inspector``)."""
from __future__ import annotations

import io
import json

import pytest

from lightbox.inspector import accounts

PASSWORD = "correct horse battery"
CATEGORIES = ("nature", "city", "people", "food")


def tiny_jpeg(seed: int, size=(64, 48)) -> bytes:
    from PIL import Image

    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def seed_queue(conn, landing, n: int, prefix: str = "p", owners: int = 5, images: bool = True) -> list[str]:
    """``n`` queued photos with scores; priority decreasing with the index. Returns ids."""
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into raw.users (user_id, username, country, joined_at, auto_licensing, default_exclusive,
                                   updated_at, _file_id, _line, _arrived_at)
            select 'u' || g, 'photographer' || g, 'DE', now() - interval '400 days', true, false, now(), 1, g, now()
              from generate_series(0, %s - 1) g
            on conflict do nothing
            """,
            (owners,),
        )
        if images and landing is not None:
            (landing / "images").mkdir(exist_ok=True)
            for i in range(min(n, 64)):  # a few distinct images are enough; the rest share them
                (landing / "images" / f"img{i}.jpg").write_bytes(tiny_jpeg(i))
        cur.execute(
            """
            insert into raw.photos (photo_id, owner_id, uploaded_at, title, description, keywords, category,
                                    width, height, camera_make, camera_model, has_people, has_property,
                                    model_release, property_release, submitted_for_licensing, exclusive,
                                    image_path, updated_at, _file_id, _line, _arrived_at)
            select id, 'u' || (ord %% %(owners)s), now() - interval '3 days', 'Photo ' || id, 'A test photo',
                   'sky;tree;test', (%(cats)s::text[])[1 + ord %% 4], 64, 48, 'Canon', 'EOS', ord %% 3 = 0,
                   ord %% 5 = 0, false, false, true, false, 'images/img' || ((ord - 1) %% 64) || '.jpg', now(), 1,
                   ord, now()
              from unnest(%(ids)s::text[]) with ordinality as t(id, ord)
            """,
            {"ids": ids, "owners": owners, "cats": list(CATEGORIES)},
        )
        cur.execute(
            """
            insert into licensing.scores (photo_id, model_version, p_suitable, p_sale, decision, reasons, scored_at)
            select id, 'v1', 0.5 + (ord %% 50) / 100.0, 0.3, case when ord %% 3 = 0 then 'changes_required' else 'under_review' end,
                   %(reasons)s::jsonb, now()
              from unnest(%(ids)s::text[]) with ordinality as t(id, ord)
            """,
            {"ids": ids, "reasons": json.dumps([
                {"kind": "rule", "text": "people are recognisable but there is no model release"},
                {"kind": "model", "feature": "sharpness", "weight": 0.4121, "text": "the photo is sharp"},
                {"kind": "data", "text": "no camera metadata"}])},
        )
        cur.execute(
            """
            insert into licensing.review_queue (photo_id, priority, status, model_version, enqueued_at)
            select id, 1.0 - ord / 100000.0, 'pending', 'v1', now() - ((ord - 1) %% 40) * interval '1 day'
              from unnest(%(ids)s::text[]) with ordinality as t(id, ord)
            """,
            {"ids": ids},
        )
    return ids


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """argon2id with small parameters: the same code path, a fraction of the time."""
    monkeypatch.setattr(accounts, "HASH_PARAMS", {"time_cost": 1, "memory_cost": 8 * 1024, "parallelism": 1})
    monkeypatch.setattr(accounts, "_DUMMY_HASH", None)


@pytest.fixture
def queue_ids(conn, landing):
    return seed_queue(conn, landing, 12)


@pytest.fixture
def inspectors(conn):
    """Two inspector accounts, alice and bob (password PASSWORD)."""
    for name in ("alice", "bob"):
        accounts.add_inspector(conn, name, PASSWORD)
    return ("alice", "bob")


@pytest.fixture
def app(db_url, lightbox_home, landing):
    from lightbox.inspector.app import create_app
    from lightbox.inspector.pool import inspector_url

    application = create_app(database_url=inspector_url(db_url))  # the app's own login role
    yield application
    application.state.pool.close()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def make_client(app):
    from fastapi.testclient import TestClient

    made = []

    def _make():
        c = TestClient(app)
        made.append(c)
        return c

    yield _make
    for c in made:
        c.close()


def assert_pool_refuses(url: str) -> None:
    """The app's connection pool refuses to hand out a connection of this login."""
    from lightbox.inspector.pool import ConnectionPool, UnsafeDatabaseRole

    pool = ConnectionPool(url, size=1)
    try:
        with pytest.raises(UnsafeDatabaseRole):
            with pool.connection():
                pass
    finally:
        pool.close()


def api_login(client, name: str, password: str = PASSWORD) -> str:
    """Sign in through the API; returns the CSRF token."""
    r = client.post("/api/login", json={"name": name, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]


@pytest.fixture
def login():
    """``login(client, name)`` signs in through the API and returns the CSRF token."""
    return api_login


@pytest.fixture
def seed():
    """``seed(conn, landing, n, prefix=…)`` queues n scored photos."""
    return seed_queue
