"""Airflow event triggers of Lightbox: the one place outside ``dags/`` that imports Airflow,
because the triggerer imports a trigger by its class path (``lightbox.triggers.…``) and the
package is installed wherever Airflow runs.

:class:`LandingFilesTrigger` watches the landing folder for ``ingest_landing``'s
``AssetWatcher`` (Airflow 3 event-driven scheduling): it lists the folder every
``poke_interval`` seconds (:func:`lightbox.landing.watch.snapshot`, directory listings only)
and fires an event, which becomes an event of the watched Asset and so a run of the DAGs
scheduled on it, once new or changed files have stayed the same for one more listing (a
producer still writing a file is not interrupted mid-way; writing to a temporary name and
renaming is better still). It runs for as long as the triggerer does and fires again for
the next files. At start it fires once when the folder holds any file, so files that landed
while the triggerer was down are not left to the slow cron (a run over files already loaded
costs a listing and one query).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from lightbox.landing import watch as landing_watch

EVENT_FILES_SHOWN = 20  # paths named in an event's payload (the count is always complete)


class LandingFilesTrigger(BaseEventTrigger):
    """Fire when files arrive in the landing folder (see the module docstring).

    :param landing: the landing folder (absolute path).
    :param poke_interval: seconds between listings.
    :param max_settle_seconds: fire anyway when files have kept changing this long (a
        steady stream of arrivals must not starve ingest).
    """

    def __init__(self, landing: str, poke_interval: float = 1.0, max_settle_seconds: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        self.landing = landing
        self.poke_interval = poke_interval
        self.max_settle_seconds = max_settle_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"landing": self.landing, "poke_interval": self.poke_interval,
             "max_settle_seconds": self.max_settle_seconds},
        )

    async def _snapshot(self) -> landing_watch.Snapshot:
        return await asyncio.to_thread(landing_watch.snapshot, self.landing)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        fired: landing_watch.Snapshot = {}  # what the last event covered
        previous = await self._snapshot()
        if previous:
            fired = previous
            yield TriggerEvent(self._payload(sorted(previous), reason="start"))
        pending_since: float | None = None
        while True:
            await asyncio.sleep(self.poke_interval)
            current = await self._snapshot()
            new = landing_watch.arrived(fired, current)
            if not new:
                pending_since, previous = None, current
                continue
            if pending_since is None:
                pending_since = time.monotonic()
            settled = not landing_watch.arrived(previous, current)
            previous = current
            if settled or time.monotonic() - pending_since >= self.max_settle_seconds:
                fired, pending_since = current, None
                self.log.info("landing: %d new or changed file(s), e.g. %s", len(new), new[:3])
                yield TriggerEvent(self._payload(new, reason="arrived"))

    @staticmethod
    def _payload(paths: list[str], reason: str) -> dict:
        return {"reason": reason, "files": len(paths), "paths": paths[:EVENT_FILES_SHOWN]}
