"""The landing folder's event trigger, run as the triggerer runs it (an async generator),
against a real folder and against a scripted sequence of listings."""
import asyncio

import pytest

from lightbox.landing import watch as landing_watch
from lightbox.triggers import LandingFilesTrigger


async def _events(trigger, n, timeout=60):
    out = []

    async def collect():
        async for event in trigger.run():
            out.append(event.payload)
            if len(out) == n:
                return

    await asyncio.wait_for(collect(), timeout)
    return out


def test_serialises_to_an_importable_class_path_and_back(tmp_path):
    import importlib

    trigger = LandingFilesTrigger(landing=str(tmp_path), poke_interval=0.5)
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")  # what the triggerer does with it
    again = getattr(importlib.import_module(module), name)(**kwargs)
    assert isinstance(again, LandingFilesTrigger)
    assert again.serialize() == (classpath, kwargs)


def test_fires_for_files_already_there_then_for_each_new_file(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "old.csv").write_text("photo_id\np1\n")
    trigger = LandingFilesTrigger(landing=str(tmp_path), poke_interval=0.05)

    async def scenario():
        got = []
        gen = trigger.run()
        got.append((await asyncio.wait_for(gen.__anext__(), 60)).payload)
        (tmp_path / "photos" / "new.csv").write_text("photo_id\np2\n")
        got.append((await asyncio.wait_for(gen.__anext__(), 60)).payload)
        await gen.aclose()
        return got

    start, arrived = asyncio.run(scenario())
    assert start == {"reason": "start", "files": 1, "paths": ["photos/old.csv"]}
    assert arrived == {"reason": "arrived", "files": 1, "paths": ["photos/new.csv"]}


def test_waits_until_a_growing_file_has_settled(monkeypatch):
    # listings in order: empty, a file being written (twice bigger), then the same twice
    listings = iter([{}, {"photos/a.csv": (10, 1)}, {"photos/a.csv": (20, 2)}, {"photos/a.csv": (20, 2)},
                     {"photos/a.csv": (20, 2)}, {"photos/a.csv": (20, 2), "users/u.csv": (5, 3)},
                     {"photos/a.csv": (20, 2), "users/u.csv": (5, 3)}])
    seen = []

    def scripted(_landing):
        snap = next(listings)
        seen.append(snap)
        return snap

    monkeypatch.setattr(landing_watch, "snapshot", scripted)
    trigger = LandingFilesTrigger(landing="/nowhere", poke_interval=0)

    async def scenario():
        gen = trigger.run()
        first = (await asyncio.wait_for(gen.__anext__(), 60)).payload
        listed = len(seen)
        second = (await asyncio.wait_for(gen.__anext__(), 60)).payload
        await gen.aclose()
        return first, listed, second

    first, listed, second = asyncio.run(scenario())

    assert first == {"reason": "arrived", "files": 1, "paths": ["photos/a.csv"]}
    assert listed == 4  # fired on the first listing that matched the one before it
    assert second == {"reason": "arrived", "files": 1, "paths": ["users/u.csv"]}


def test_a_steady_stream_of_changes_still_fires_after_max_settle_seconds(monkeypatch):
    counter = iter(range(1, 10_000))
    monkeypatch.setattr(landing_watch, "snapshot", lambda _l: {"photos/a.csv": (next(counter), 0)})
    trigger = LandingFilesTrigger(landing="/nowhere", poke_interval=0.01, max_settle_seconds=0.2)

    (start, event) = asyncio.run(_events(trigger, 2))

    assert start["reason"] == "start"
    assert event["reason"] == "arrived" and event["paths"] == ["photos/a.csv"]


@pytest.mark.parametrize("dag_id", ["ingest_landing"])
def test_ingest_landing_is_scheduled_by_the_watcher_and_a_cron(dag_id, airflow_metadata):
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    from lightbox.config import settings

    repo = Path(__file__).resolve().parents[2]
    bag = DagBag(dag_folder=str(repo / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors
    dag = bag.get_dag(dag_id)
    timetable = dag.timetable
    assert timetable.timetable.expression == "*/15 * * * *"
    condition = dag.timetable.asset_condition
    (asset,) = condition.objects if hasattr(condition, "objects") else [condition]
    assert asset.name == "lightbox.landing"
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, LandingFilesTrigger)
    assert watcher.trigger.landing == str(settings().landing)
