"""Security: nothing without sign-in, CSRF refused, another inspector's claim refused,
expired claims, SQL injection in filters harmless, passwords argon2id, cookie flags."""
from __future__ import annotations

import re

import pytest

from lightbox.inspector import accounts
from lightbox.inspector import queue as q

PROTECTED_GET = ["/", "/queue", "/history", "/photos/p00000", "/photos/p00000/thumb.jpg", "/photos/p00000/image",
                 "/api/me", "/api/queue", "/api/photos/p00000", "/api/history", "/api/reasons", "/openapi.json",
                 "/api/docs"]
PROTECTED_POST = ["/claim-next", "/photos/p00000/claim", "/photos/p00000/decide", "/photos/p00000/release",
                  "/logout", "/api/claim-next", "/api/claim", "/api/decide", "/api/release", "/api/logout"]


def test_nothing_without_sign_in(client, queue_ids):
    for path in PROTECTED_GET:
        r = client.get(path, follow_redirects=False)
        if path.startswith("/api/") or path == "/openapi.json":
            assert r.status_code == 401, path
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    for path in PROTECTED_POST:
        r = client.post(path, json={"photo_id": "p00000", "decision": "accepted"}, follow_redirects=False)
        assert r.status_code in (401, 303), path
    assert client.get("/login").status_code == 200
    # a forged or garbage cookie is no session
    client.cookies.set("lb_session", "x" * 43)
    assert client.get("/api/queue").status_code == 401


def test_csrf_refused(client, conn, queue_ids, inspectors, login):
    csrf = login(client, "alice")
    assert client.post("/api/claim-next").status_code == 403
    assert client.post("/api/claim-next", headers={"X-CSRF-Token": "forged"}).status_code == 403
    r = client.post("/claim-next", data={"csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post("/claim-next", data={}, follow_redirects=False)
    assert r.status_code == 403
    with conn.cursor() as cur:
        cur.execute("select count(*) from licensing.review_queue where status = 'claimed'")
        assert cur.fetchone()[0] == 0
    r = client.post("/claim-next", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/photos/{queue_ids[0]}"
    # sign-in form: its own double-submit token
    fresh = client.__class__(client.app)
    assert fresh.post("/login", data={"name": "alice", "password": "correct horse battery", "csrf_token": "x"},
                      follow_redirects=False).status_code == 403
    fresh.close()


def test_another_inspectors_claim_is_refused(make_client, conn, queue_ids, inspectors, login):
    alice, bob = make_client(), make_client()
    ha = {"X-CSRF-Token": login(alice, "alice")}
    hb = {"X-CSRF-Token": login(bob, "bob")}
    pid = alice.post("/api/claim-next", headers=ha).json()["photo_id"]
    assert bob.post("/api/claim-next", headers=hb).json()["photo_id"] != pid
    for path, body in (("/api/decide", {"photo_id": pid, "decision": "accepted"}),
                       ("/api/release", {"photo_id": pid}), ("/api/claim", {"photo_id": pid})):
        r = bob.post(path, headers=hb, json=body)
        assert r.status_code == 409, path
        assert "another inspector holds it" in r.json()["detail"] or "already hold" in r.json()["detail"]
    r = bob.post(f"/photos/{pid}/decide", data={"csrf_token": hb["X-CSRF-Token"], "decision": "accepted"})
    assert r.status_code == 409 and "another inspector holds it" in r.text
    with conn.cursor() as cur:
        cur.execute("select status, claimed_by from licensing.review_queue where photo_id = %s", (pid,))
        assert cur.fetchone() == ("claimed", "alice")
        cur.execute("select count(*) from licensing.decisions")
        assert cur.fetchone()[0] == 0


def test_expired_claim_returns_to_queue_and_decision_is_refused(conn, queue_ids, monkeypatch):
    monkeypatch.setenv("LIGHTBOX_CLAIM_TTL_MINUTES", "5")
    claim = q.claim_next(conn, "alice")
    with conn.cursor() as cur:
        cur.execute("update licensing.review_queue set claimed_at = now() - interval '6 minutes' where photo_id = %s",
                    (claim.photo_id,))
    with pytest.raises(q.QueueError, match="your claim expired"):
        q.decide(conn, "alice", claim.photo_id, "accepted")
    assert q.list_queue(conn, status="pending")[0]["photo_id"] == claim.photo_id  # shown as pending again
    again = q.claim_next(conn, "bob")
    assert again.photo_id == claim.photo_id  # back in the queue, highest priority
    with pytest.raises(q.QueueError, match="another inspector holds it"):
        q.decide(conn, "alice", claim.photo_id, "accepted")
    q.decide(conn, "bob", claim.photo_id, "accepted")


EVIL = [
    "x' or '1'='1",
    "'; drop table licensing.review_queue; --",
    "city\" or 1=1 --",
    "%' union select null--",
]


def test_sql_injection_in_filters_is_harmless(client, conn, queue_ids, inspectors, login):
    csrf = login(client, "alice")
    for evil in EVIL:
        r = client.get("/api/queue", params={"category": evil, "status": "open"})
        assert r.status_code == 200 and r.json()["items"] == [], evil
        assert client.get("/queue", params={"category": evil, "age": evil, "ai_decision": evil}).status_code == 200
        assert client.get("/api/queue", params={"status": evil}).status_code == 422
        r = client.post("/api/claim-next", headers={"X-CSRF-Token": csrf}, json={"category": evil})
        assert r.json()["photo_id"] is None
        assert client.get(f"/api/photos/{evil}").status_code in (404, 405)
    with conn.cursor() as cur:
        cur.execute("select count(*), count(*) filter (where status = 'pending') from licensing.review_queue")
        assert cur.fetchone() == (12, 12)


def test_passwords_are_argon2id_and_sign_in_checks_them(client, conn, inspectors):
    with conn.cursor() as cur:
        cur.execute("select password_hash from licensing.inspectors where inspector_id = 'alice'")
        assert cur.fetchone()[0].startswith("$argon2id$")
    assert client.post("/api/login", json={"name": "alice", "password": "wrong password"}).status_code == 401
    assert client.post("/api/login", json={"name": "mallory", "password": "whatever1"}).status_code == 401
    with pytest.raises(accounts.AccountError):
        accounts.add_inspector(conn, "short", "1234")
    with pytest.raises(accounts.AccountError):
        accounts.add_inspector(conn, "bad name'; --", "long enough password")


def test_password_guessing_is_throttled(client, inspectors):
    for _ in range(5):
        assert client.post("/api/login", json={"name": "alice", "password": "guess guess"}).status_code == 401
    r = client.post("/api/login", json={"name": "alice", "password": "correct horse battery"})
    assert r.status_code == 429 and "Too many" in r.json()["detail"]
    assert client.post("/api/login", json={"name": "bob", "password": "correct horse battery"}).status_code == 200


def test_cookie_flags_and_headers(client, inspectors):
    page = client.get("/login")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"name": "alice", "password": "correct horse battery", "csrf_token": token,
                                    "next": "https://evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/queue"  # no open redirect
    cookie = [c for c in r.headers.get_list("set-cookie") if c.startswith("lb_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # http here
    from fastapi.testclient import TestClient

    with TestClient(client.app, base_url="https://testserver") as secure_client:
        r = secure_client.post("/api/login", json={"name": "alice", "password": "correct horse battery"})
        cookie = [c for c in r.headers.get_list("set-cookie") if c.startswith("lb_session=")][0].lower()
        assert "secure" in cookie and "httponly" in cookie


def test_disabled_inspector_loses_access_and_claims(client, conn, queue_ids, inspectors, login):
    h = {"X-CSRF-Token": login(client, "alice")}
    client.post("/api/claim-next", headers=h)
    assert accounts.disable_inspector(conn, "alice")
    assert client.get("/api/queue").status_code == 401
    assert client.post("/api/login", json={"name": "alice", "password": "correct horse battery"}).status_code == 401
    with conn.cursor() as cur:
        cur.execute("select count(*) from licensing.review_queue where status = 'claimed'")
        assert cur.fetchone()[0] == 0


def test_only_queued_photos_are_visible(client, conn, queue_ids, inspectors, login):
    login(client, "alice")
    with conn.cursor() as cur:
        cur.execute("insert into raw.photos (photo_id, owner_id, image_path, _file_id, _line, _arrived_at) "
                    "values ('secret1', 'u0', 'images/img0.jpg', 1, 1, now())")
    assert client.get("/api/photos/secret1").status_code == 404
    assert client.get("/photos/secret1/image").status_code == 404
    assert client.get("/photos/secret1").status_code == 404
