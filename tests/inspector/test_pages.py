"""The server-rendered pages through the form flow: sign in, queue, claim, photo, decide
(landing on the next photo), release, my history."""
from __future__ import annotations

import re


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_form_flow(client, conn, queue_ids, inspectors):
    page = client.get("/login?next=/queue")
    r = client.post("/login", data={"name": "alice", "password": "wrong", "csrf_token": _csrf(page.text)})
    assert r.status_code == 401 and "Wrong name or password" in r.text
    r = client.post("/login", data={"name": "alice", "password": "correct horse battery",
                                    "csrf_token": _csrf(page.text), "next": "/queue"})
    assert r.status_code == 200 and r.url.path == "/queue"
    assert "Photo p00000" in r.text and "12</b> pending" in r.text
    csrf = _csrf(r.text)
    filtered = client.get("/queue", params={"category": "nature", "age": "7d"})
    assert "Photo p00000" not in filtered.text and "Photo p00003" in filtered.text

    r = client.post("/claim-next", data={"csrf_token": csrf})
    assert r.url.path == f"/photos/{queue_ids[0]}"
    for text in ("Accept", "Reject", "Changes", "the photo is sharp", "no model release", "Model release",
                 "photographer", "Technical quality"):
        assert text in r.text, text

    r = client.post(f"/photos/{queue_ids[0]}/decide", data={
        "csrf_token": csrf, "decision": "changes_required", "releases": ["model_release"], "note": "need a release"})
    assert r.url.path == f"/photos/{queue_ids[1]}" and "Decision saved" in r.text
    r = client.post(f"/photos/{queue_ids[1]}/release", data={"csrf_token": csrf})
    assert r.url.path == "/queue" and "released" in r.text
    r = client.post(f"/photos/{queue_ids[3]}/claim", data={"csrf_token": csrf})
    assert r.url.path == f"/photos/{queue_ids[3]}" and "You hold this photo" in r.text

    history = client.get("/history").text
    assert queue_ids[0] in history and "model_release: need a release" in history
    with conn.cursor() as cur:
        cur.execute("select photo_id, decision, reason from licensing.decisions")
        assert cur.fetchall() == [(queue_ids[0], "changes_required", "model_release: need a release")]

    r = client.post("/logout", data={"csrf_token": csrf})
    assert r.url.path == "/login" and "signed out" in r.text
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_photo_page_shows_exclusivity_by_the_one_rule(client, conn, queue_ids, inspectors):
    """The page answers "is it exclusive?" as every other reader does (licensing.photo_exclusivity):
    support's change wins over the photo's own flag."""
    page = client.get("/login?next=/queue")
    client.post("/login", data={"name": "alice", "password": "correct horse battery",
                                "csrf_token": _csrf(page.text), "next": "/queue"})
    photo = queue_ids[2]
    assert re.search(r"<th>Exclusive</th><td>no \(photo\)</td>", client.get(f"/photos/{photo}").text)
    with conn.cursor() as cur:
        cur.execute("""insert into licensing.exclusivity_changes (photo_id, exclusive, previous_exclusive, changed_by, reason)
                       values (%s, true, false, 'support', 'exclusive contract signed')""", (photo,))
    assert re.search(r"<th>Exclusive</th><td>yes \(support change\)</td>", client.get(f"/photos/{photo}").text)
