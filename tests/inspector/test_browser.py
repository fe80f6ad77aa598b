"""End to end in headless Chromium (Debian's package, driven by Playwright): sign in, claim
the next photo, look at it, decide with the keyboard (a, then r 2 Enter), land on the next
photo each time, and save a screenshot. ``LIGHTBOX_UPDATE_DOCS_SCREENSHOT=1`` also writes
it to docs/inspector.png (the README's picture)."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from lightbox.config import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SAMPLES = ["Aqua.jpg", "GreenMeadow.jpg", "LadyBird.jpg", "Storm.jpg", "YellowFlower.jpg", "Dune.jpg"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed (make system-deps)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _wait_loaded(img, timeout: float = 15) -> None:
    # a poll, not wait_for_function: that evaluates a string, which the app's CSP forbids
    deadline = time.monotonic() + timeout
    while not img.evaluate("el => el.complete && el.naturalWidth > 0"):
        assert time.monotonic() < deadline, "the photo did not load"
        time.sleep(0.05)


def test_sign_in_claim_view_decide_with_keyboard(live_server, conn, landing, seed, inspectors, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ids = seed(conn, landing, len(SAMPLES))
    samples = REPO_ROOT / "include" / "sample_photos"
    with conn.cursor() as cur:
        for i, name in enumerate(SAMPLES):  # real photos make a truthful screenshot
            shutil.copy(samples / name, landing / "images" / f"img{i}.jpg")
            cur.execute("update raw.photos set title = %s, width = 2400, height = 1600 where photo_id = %s",
                        (name.removesuffix(".jpg").replace("_", " "), ids[i]))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 960})
        page.goto(live_server + "/queue")
        expect(page).to_have_url(live_server + "/login?next=/queue")
        page.fill("input[name=name]", "alice")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        expect(page.locator("table.queue")).to_be_visible()
        assert page.locator("table.queue tbody tr").count() == len(SAMPLES)

        page.click("#claim-next")
        expect(page).to_have_url(f"{live_server}/photos/{ids[0]}")
        display = page.locator("#display")
        expect(display).to_be_visible()
        _wait_loaded(page.locator("#display"))
        expect(page.locator("#btn-accept")).to_be_visible()

        page.keyboard.press("a")  # accept: the next photo is loaded
        expect(page).to_have_url(f"{live_server}/photos/{ids[1]}?notice=decided")
        expect(page.locator(".notice")).to_contain_text("Decision saved")

        page.keyboard.press("r")  # reject with the second reason, by keyboard only
        expect(page.locator("#panel-reject")).to_be_visible()
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{live_server}/photos/{ids[2]}?notice=decided")
        _wait_loaded(page.locator("#display"))
        page.keyboard.press("c")
        expect(page.locator("#panel-changes")).to_be_visible()

        shot = tmp_path / "inspector.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        if os.environ.get("LIGHTBOX_UPDATE_DOCS_SCREENSHOT") == "1":
            (REPO_ROOT / "docs").mkdir(exist_ok=True)
            shutil.copy(shot, REPO_ROOT / "docs" / "inspector.png")

        page.goto(live_server + "/history")
        expect(page.locator("table.queue tbody tr")).to_have_count(2)
        browser.close()

    with conn.cursor() as cur:
        cur.execute("select photo_id, inspector_id, decision, reason from licensing.decisions order by decision_id")
        assert cur.fetchall() == [(ids[0], "alice", "accepted", None), (ids[1], "alice", "rejected", "composition")]
        cur.execute("select status, claimed_by from licensing.review_queue where photo_id = %s", (ids[2],))
        assert cur.fetchone() == ("claimed", "alice")
