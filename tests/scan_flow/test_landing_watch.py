"""Noticing landing files: the snapshot the landing trigger polls, and which sources an
ingest run needs to open (real PostgreSQL, real loader)."""
import os

from lightbox.landing import watch as landing_watch
from lightbox.landing.ingest import ingest_folder

USERS = (
    "user_id,username,country,joined_at,auto_licensing,default_exclusive,updated_at,deleted_at\n"
    "u1,ana,PT,2025-01-01T00:00:00Z,true,false,2025-01-01T00:00:00Z,\n"
)
RATES = "rate_date,currency,usd_per_unit\n2025-01-01,EUR,1.1\n"


def test_snapshot_lists_the_csv_files_of_source_folders_only(landing):
    (landing / "users" / "2026").mkdir(parents=True)
    (landing / "users" / "u.csv").write_text(USERS)
    (landing / "users" / "2026" / "deep.csv").write_text(USERS)
    (landing / "users" / ".u2.tmp").write_text(USERS)  # being written: not a landing file yet
    (landing / "images").mkdir()
    (landing / "images" / "a.csv").write_text("x")  # not a source folder
    (landing / "_seed.json").write_text("{}")

    snap = landing_watch.snapshot(landing)

    assert sorted(snap) == ["users/2026/deep.csv", "users/u.csv"]
    assert snap["users/u.csv"][0] == len(USERS)


def test_arrived_names_new_and_changed_files():
    before = {"users/a.csv": (10, 1), "users/b.csv": (10, 1)}
    after = {"users/a.csv": (10, 1), "users/b.csv": (12, 2), "photos/c.csv": (5, 3)}

    assert landing_watch.arrived(before, after) == ["photos/c.csv", "users/b.csv"]
    assert landing_watch.arrived(after, after) == []


def test_unloaded_sources_are_those_with_files_not_yet_recorded(conn, landing, db_url):
    (landing / "users").mkdir()
    (landing / "users" / "u.csv").write_text(USERS)
    assert landing_watch.unloaded_sources(conn, landing) == ["users"]

    ingest_folder(landing, url=db_url)
    assert landing_watch.unloaded_sources(conn, landing) == []

    (landing / "fx_rates").mkdir()
    (landing / "fx_rates" / "r.csv").write_text(RATES)
    assert landing_watch.unloaded_sources(conn, landing) == ["fx_rates"]


def test_an_empty_or_missing_landing_folder_has_nothing(conn, tmp_path):
    assert landing_watch.snapshot(tmp_path / "missing") == {}
    assert landing_watch.unloaded_sources(conn, tmp_path) == []
    os.makedirs(tmp_path / "photos")
    assert landing_watch.snapshot(tmp_path) == {}
