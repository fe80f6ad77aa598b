"""The JSON API against the real database: list, claim, decide, release, history, images,
and what a decision writes (queue row + training label)."""
from __future__ import annotations

from inspector.conftest import assert_pool_refuses  # tests/inspector (a package under tests/)


def test_claim_decide_release_round_trip(client, conn, queue_ids, inspectors, login):
    csrf = login(client, "alice")
    h = {"X-CSRF-Token": csrf}

    listing = client.get("/api/queue").json()
    assert listing["counts"] == {"pending": 12, "claimed": 0, "decided": 0}
    assert [r["photo_id"] for r in listing["items"]] == queue_ids  # by priority

    claim = client.post("/api/claim-next", headers=h).json()
    assert claim["photo_id"] == queue_ids[0] and not claim["already_held"]
    again = client.post("/api/claim-next", headers=h).json()  # one claim at a time
    assert again["photo_id"] == queue_ids[0] and again["already_held"]

    photo = client.get(f"/api/photos/{queue_ids[0]}").json()
    assert photo["status"] == "claimed" and photo["claimed_by"] == "alice"
    assert photo["photo"]["category"] and photo["scores"][0]["model_version"] == "v1"
    assert "image_path" not in photo["photo"]

    r = client.post("/api/decide", headers=h, json={
        "photo_id": queue_ids[0], "decision": "rejected", "reason_code": "composition", "note": "tilted horizon"})
    assert r.status_code == 200, r.text
    assert r.json()["reason"] == "composition: tilted horizon"

    with conn.cursor() as cur:
        cur.execute("select status, decision, decision_reason, decided_at is not null from licensing.review_queue where photo_id = %s",
                    (queue_ids[0],))
        assert cur.fetchone() == ("decided", "rejected", "composition: tilted horizon", True)
        cur.execute("select inspector_id, decision, reason from licensing.decisions")
        assert cur.fetchall() == [("alice", "rejected", "composition: tilted horizon")]

    nxt = client.post("/api/claim-next", headers=h).json()
    assert nxt["photo_id"] == queue_ids[1]
    assert client.post("/api/release", headers=h, json={"photo_id": queue_ids[1]}).status_code == 200
    assert client.get("/api/queue", params={"status": "pending"}).json()["items"][0]["photo_id"] == queue_ids[1]

    hist = client.get("/api/history").json()["items"]
    assert [(r["photo_id"], r["decision"]) for r in hist] == [(queue_ids[0], "rejected")]


def test_decision_rules(client, queue_ids, inspectors, login):
    h = {"X-CSRF-Token": login(client, "alice")}
    pid = client.post("/api/claim-next", headers=h).json()["photo_id"]
    r = client.post("/api/decide", headers=h, json={"photo_id": pid, "decision": "rejected"})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = client.post("/api/decide", headers=h, json={"photo_id": pid, "decision": "changes_required"})
    assert r.status_code == 422 and "release" in r.json()["detail"]
    r = client.post("/api/decide", headers=h, json={"photo_id": pid, "decision": "maybe"})
    assert r.status_code == 422
    r = client.post("/api/decide", headers=h, json={
        "photo_id": pid, "decision": "changes_required", "releases": ["model_release", "property_release"]})
    assert r.status_code == 200 and r.json()["reason"] == "model_release,property_release"
    r = client.post("/api/decide", headers=h, json={"photo_id": pid, "decision": "accepted"})
    assert r.status_code == 409 and "already decided" in r.json()["detail"]


def test_filters(client, queue_ids, inspectors, login):
    login(client, "alice")
    items = client.get("/api/queue", params={"category": "city"}).json()["items"]
    assert items and {r["category"] for r in items} == {"city"}
    items = client.get("/api/queue", params={"ai_decision": "changes_required"}).json()["items"]
    assert items and {r["ai_decision"] for r in items} == {"changes_required"}
    recent = client.get("/api/queue", params={"age": "1d"}).json()["items"]
    old = client.get("/api/queue", params={"age": "older7d"}).json()["items"]
    assert recent and old and not {r["photo_id"] for r in recent} & {r["photo_id"] for r in old}
    assert client.get("/api/queue", params={"age": "forever"}).status_code == 422
    # claim-next within a category
    h = {"X-CSRF-Token": login(client, "bob")}
    pid = client.post("/api/claim-next", headers=h, json={"category": "food"}).json()["photo_id"]
    assert client.get(f"/api/photos/{pid}").json()["photo"]["category"] == "food"
    # nothing left in a category: an answer, not an error
    r = client.post("/api/claim-next", headers={"X-CSRF-Token": login(client, "alice")}, json={"category": "none"})
    assert r.status_code == 200 and r.json()["photo_id"] is None


def test_images_are_served_as_jpeg(client, queue_ids, inspectors, login):
    login(client, "alice")
    for url in (f"/photos/{queue_ids[0]}/thumb.jpg", f"/photos/{queue_ids[0]}/thumb.jpg?size=display",
                f"/photos/{queue_ids[0]}/image"):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    assert client.get("/photos/nope/thumb.jpg").status_code == 404


def test_photographer_history(client, conn, queue_ids, inspectors, login):
    h = {"X-CSRF-Token": login(client, "alice")}
    first = client.post("/api/claim-next", headers=h).json()["photo_id"]
    client.post("/api/decide", headers=h, json={"photo_id": first, "decision": "accepted"})
    with conn.cursor() as cur:
        cur.execute("select owner_id from raw.photos where photo_id = %s", (first,))
        owner = cur.fetchone()[0]
        cur.execute("select photo_id from raw.photos where owner_id = %s and photo_id <> %s limit 1", (owner, first))
        sibling = cur.fetchone()[0]
    history = client.get(f"/api/photos/{sibling}").json()["history"]
    assert history["counts"] == {"accepted": 1} and history["recent"][0]["photo_id"] == first


def test_openapi_and_least_privilege_role(app, client, queue_ids, inspectors, login):
    login(client, "alice")
    assert client.get("/openapi.json").status_code == 200
    client.get("/api/queue")
    assert app.state.pool.user == "lightbox_inspector"
    with app.state.pool.connection() as c, c.cursor() as cur:
        cur.execute("select current_user")
        assert cur.fetchone()[0] == "lightbox_inspector"
        import psycopg2

        try:
            cur.execute("delete from licensing.review_queue")
            raise AssertionError("the app may delete from the queue")
        except psycopg2.errors.InsufficientPrivilege:
            c.rollback()
        try:
            cur.execute("select * from licensing.model_versions")
            raise AssertionError("the app may read beyond the queue")
        except psycopg2.errors.InsufficientPrivilege:
            c.rollback()


def test_the_app_refuses_a_superuser_connection(db_url):
    assert_pool_refuses(db_url)  # the test server's superuser
