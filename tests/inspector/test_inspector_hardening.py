"""The inspector app under attack (issue 15): its database login is a boundary (no superuser
to get back, no password hashes, sessions and decisions only under the session's inspector),
no local file is served as a photo, bad parameters are 4xx, X-Forwarded-For is believed only
from trusted proxies, and failed sign-ins cannot lock everyone out."""
from __future__ import annotations

import uuid

import psycopg2
import pytest
from fastapi.testclient import TestClient

from inspector.conftest import PASSWORD, assert_pool_refuses, tiny_jpeg  # tests/inspector (a package under tests/)
from lightbox.inspector import accounts


def _refused(cur, sql: str, params=()) -> bool:
    try:
        cur.execute(sql, params)
    except (psycopg2.errors.InsufficientPrivilege, psycopg2.errors.RaiseException):
        cur.connection.rollback()
        return True
    return False


# ------------------------------------------------------------------ the database role


def test_reset_role_gives_no_superuser_back(app, client, inspectors):
    with app.state.pool.connection() as c, c.cursor() as cur:
        cur.execute("reset role")
        cur.execute("select current_user, rolsuper, rolbypassrls, rolcreaterole from pg_roles where rolname = current_user")
        assert cur.fetchone() == ("lightbox_inspector", False, False, False)
        assert _refused(cur, "set role postgres")


def test_the_app_cannot_read_password_hashes_or_write_sessions(app, client, inspectors, conn):
    with app.state.pool.connection() as c, c.cursor() as cur:
        assert _refused(cur, "select password_hash from licensing.inspectors")
        assert _refused(cur, "select * from licensing.inspector_sessions")
        assert _refused(cur, "insert into licensing.inspector_sessions (session_hash, inspector_id, csrf_token, "
                             "expires_at) values ('x', 'bob', 'y', now() + interval '1 day')")
        # sign-in gets the salt and parameters, never the hash
        cur.execute("select params from licensing.inspector_hash_params('bob')")
        params = cur.fetchone()[0]
    with conn.cursor() as cur:
        cur.execute("select password_hash from licensing.inspectors where inspector_id = 'bob'")
        stored = cur.fetchone()[0]
    assert stored.startswith(params) and stored.rsplit("$", 1)[1] not in params
    # a guessed "hash" does not open a session
    with app.state.pool.connection() as c, c.cursor() as cur:
        cur.execute("select licensing.inspector_sign_in('bob', %s, 'h', 'c', 1)", (params + "$AAAA",))
        assert cur.fetchone()[0] is False


def test_decisions_and_claims_only_under_the_sessions_inspector(app, client, conn, queue_ids, inspectors, login):
    login(client, "alice")
    alice = accounts.session_digest(client.cookies.get("lb_session"))
    photo = queue_ids[0]
    with app.state.pool.connection(alice) as c, c.cursor() as cur:
        assert _refused(cur, "insert into licensing.decisions (photo_id, inspector_id, decision, decided_at) "
                             "values (%s, 'bob', 'accepted', now())", (photo,))
        assert _refused(cur, "update licensing.review_queue set status = 'claimed', claimed_by = 'bob', "
                             "claimed_at = now() where photo_id = %s", (photo,))
        cur.execute("update licensing.review_queue set status = 'claimed', claimed_by = 'alice', claimed_at = now() "
                    "where photo_id = %s", (photo,))
        assert cur.rowcount == 1  # as herself, she may
    with app.state.pool.connection(None) as c, c.cursor() as cur:  # no session: no name at all
        assert _refused(cur, "insert into licensing.decisions (photo_id, inspector_id, decision, decided_at) "
                             "values (%s, 'alice', 'accepted', now())", (photo,))
    forged = uuid.uuid4().hex * 2  # a made-up session hash is no session either
    with app.state.pool.connection(forged) as c, c.cursor() as cur:
        assert _refused(cur, "insert into licensing.decisions (photo_id, inspector_id, decision, decided_at) "
                             "values (%s, 'alice', 'accepted', now())", (photo,))
    with conn.cursor() as cur:
        cur.execute("select count(*) from licensing.decisions")
        assert cur.fetchone()[0] == 0


# ------------------------------------------------------------------ images


@pytest.mark.parametrize("case", ["file_uri_outside", "relative_escape", "not_an_image", "wrong_sha256"])
def test_no_local_file_is_served_as_a_photo(client, conn, landing, tmp_path, queue_ids, inspectors, login, case):
    secret = tmp_path / "secret.png"
    secret.write_bytes(tiny_jpeg(7))  # an image, but outside the media roots
    (landing / "images" / "notes.jpg").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    photo = queue_ids[0]
    path, sha = {
        "file_uri_outside": (f"file://{secret}", None),
        "relative_escape": ("../secret.png", None),
        "not_an_image": ("images/notes.jpg", None),
        "wrong_sha256": ("images/img1.jpg", "0" * 64),
    }[case]
    with conn.cursor() as cur:
        cur.execute("update raw.photos set image_path = %s, sha256 = %s where photo_id = %s", (path, sha, photo))
    login(client, "alice")
    for url in (f"/photos/{photo}/image", f"/photos/{photo}/thumb.jpg"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert b"root:x" not in r.content and r.content != secret.read_bytes()


# ------------------------------------------------------------------ parameters


def test_bad_parameters_are_4xx(client, queue_ids, inspectors, login):
    h = {"X-CSRF-Token": login(client, "alice")}
    for url in ("/api/queue?category=a%00b", "/api/photos/a%00b", "/queue?category=%00", "/photos/x%00y",
                "/api/queue?offset=100000000000000000000000", "/api/queue?offset=-1", "/api/queue?limit=100000",
                "/api/history?limit=99999999999999999999"):
        r = client.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code)
    r = client.post("/api/claim", json={"photo_id": "a\u0000b"}, headers=h)
    assert 400 <= r.status_code < 500
    r = client.post("/api/login", json={"name": "al\u0000ice", "password": PASSWORD})
    assert 400 <= r.status_code < 500


# ------------------------------------------------------------------ addresses and throttling


def _fail(c: TestClient, name: str, **headers) -> int:
    return c.post("/api/login", json={"name": name, "password": "wrong password"}, headers=headers).status_code


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(app, inspectors):
    c = TestClient(app, client=("127.0.0.1", 40000))
    for i in range(5):  # each guess claims another address
        assert _fail(c, "alice", **{"X-Forwarded-For": f"203.0.113.{i}"}) == 401
    assert _fail(c, "alice", **{"X-Forwarded-For": "203.0.113.99"}) == 429


def test_x_forwarded_for_is_believed_from_a_trusted_proxy(app, inspectors):
    import ipaddress

    app.state.trusted_proxies = (ipaddress.ip_network("10.0.0.0/8"),)
    proxy = TestClient(app, client=("10.0.0.5", 40000))
    for _ in range(5):
        assert _fail(proxy, "alice", **{"X-Forwarded-For": "203.0.113.1"}) == 401
    assert _fail(proxy, "alice", **{"X-Forwarded-For": "203.0.113.1"}) == 429
    # the client is the hop the proxy appended (the last): another client behind the proxy is another address
    r = proxy.post("/api/login", json={"name": "alice", "password": PASSWORD},
                   headers={"X-Forwarded-For": "203.0.113.1, 198.51.100.7"})
    assert r.status_code == 200


def test_random_name_failures_cannot_lock_everyone_out(app, inspectors):
    alice = TestClient(app, client=("192.0.2.10", 40000))
    bob = TestClient(app, client=("192.0.2.10", 40001))
    for c, name in ((alice, "alice"), (bob, "bob")):  # each signed in from this browser before
        assert c.post("/api/login", json={"name": name, "password": PASSWORD}).status_code == 200
    attacker = TestClient(app, client=("192.0.2.10", 40002))
    statuses = [_fail(attacker, f"nobody{uuid.uuid4().hex[:8]}") for _ in range(40)]
    assert statuses.count(429) > 0  # the address is throttled for strangers...
    assert _fail(attacker, "alice") == 429
    for c, name in ((alice, "alice"), (bob, "bob")):  # ...not for the inspectors' own browsers
        assert c.post("/api/login", json={"name": name, "password": PASSWORD}).status_code == 200


# ------------------------------------------------------------------ deployment


def test_db_start_creates_the_login_role_and_sets_its_password(db_url, conn, monkeypatch, capsys):
    from lightbox import cli

    monkeypatch.setenv("LIGHTBOX_INSPECTOR_DB_PASSWORD", "a test password")
    assert cli.main(["db", "start"]) == 0
    assert "lightbox_inspector" in capsys.readouterr().out
    with conn.cursor() as cur:
        cur.execute("select rolcanlogin, rolsuper, rolpassword is not null from pg_authid where rolname = 'lightbox_inspector'")
        assert cur.fetchone() == (True, False, True)
        cur.execute("select pg_has_role('lightbox_inspector', 'inspector_app', 'member')")
        assert cur.fetchone()[0] is True


def test_the_compose_file_runs_the_app_as_its_login_role():
    from pathlib import Path

    import yaml

    compose = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
    env = compose["services"]["inspector"]["environment"]
    assert env["LIGHTBOX_INSPECTOR_DATABASE_URL"].startswith("postgresql://lightbox_inspector:")
    # the one-shot init applies the schema (which creates the role) and sets its password
    init = compose["services"]["airflow-init"]
    assert init["entrypoint"] == ["python", "-m", "lightbox.cluster.init", "airflow"]
    assert "INSPECTOR_DB_PASSWORD" in init["environment"]


def test_the_served_app_ignores_x_forwarded_for_from_a_local_client(db_url, conn, tmp_path):
    """Through uvicorn as ``lightbox inspector serve`` runs it: a local client that claims a new
    address with every guess is still one address."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    from lightbox.inspector.pool import inspector_url

    accounts.add_inspector(conn, "alice", PASSWORD)
    port = 18530
    env = {**os.environ, "LIGHTBOX_INSPECTOR_DATABASE_URL": inspector_url(db_url), "LIGHTBOX_HOME": str(tmp_path)}
    env.pop("LIGHTBOX_TRUSTED_PROXIES", None)
    server = subprocess.Popen([sys.executable, "-m", "lightbox.cli", "inspector", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the app did not start"
            time.sleep(0.3)
        statuses = [
            httpx.post(f"http://127.0.0.1:{port}/api/login", json={"name": "alice", "password": "wrong password"},
                       headers={"X-Forwarded-For": f"203.0.113.{i}"}, timeout=30).status_code
            for i in range(6)
        ]
        assert statuses == [401] * 5 + [429]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_app_refuses_a_login_that_may_become_the_superuser_or_owns_the_queue(db_url, conn):
    from lightbox.inspector.pool import inspector_url

    name = f"lbt_member_{uuid.uuid4().hex[:8]}"
    with conn.cursor() as cur:
        cur.execute(f"create role {name} login")
        cur.execute("select relowner::regrole::text from pg_class where oid = 'licensing.review_queue'::regclass")
        owner = cur.fetchone()[0]
        cur.execute(f"grant {owner} to {name}")  # may become the queue's owner (and, here, the superuser)
    try:
        assert_pool_refuses(inspector_url(db_url, password="").replace("lightbox_inspector", name))
    finally:
        with conn.cursor() as cur:
            cur.execute(f"drop role {name}")
