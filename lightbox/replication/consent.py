"""The consent model: which photos may be in which region, and why (not).

Rules (shared/DESIGN.md, issue 7):

- Events are ``raw.region_consents`` rows: (event_id, user_id, region, photo_id, action, at).
  ``photo_id`` empty means the event is about all of the user's photos (user level).
- Only the photo's owner's events count for a photo.
- For a photo in a region, the applicable events are the owner's user-level events for that
  region and the owner's photo-level events for that photo and region. The latest applicable
  event wins. A user-level event speaks about every photo, so it supersedes earlier
  photo-level events; a photo-level event overrides earlier user-level events for its photo.
  On equal ``at`` the more specific (photo-level) event wins, then a revoke beats a grant
  (the cautious choice), then the larger event_id (determinism).
- Nothing without a grant: no applicable event means no replication.
- Deleted photos, photos of deleted (or unknown) accounts are never in any region. Whether
  a photo is exclusive is the platform's one rule (``licensing.photo_exclusivity``: support's
  change, else the photo's flag, else the owner's default at upload), read by PHOTOS_SQL.
- In a region where copyright cannot be enforced (enforceable = false) an exclusive photo
  needs a photo-level grant that no later revoke (photo- or user-level) has superseded.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

# Reasons an object enters a region
CONSENT_GRANTED = "consent_granted"
CONTENT_CHANGED = "content_changed"
DRIFT_REPAIRED = "drift_repaired"
# Reasons a photo is not (or no longer) wanted in a region
ACCOUNT_DELETED = "account_deleted"
PHOTO_DELETED = "photo_deleted"
PHOTO_UNKNOWN = "photo_unknown"  # not in raw.photos at all
OWNER_UNKNOWN = "owner_unknown"  # the photo's owner is not in raw.users
CONSENT_REVOKED = "consent_revoked"
NO_CONSENT = "no_consent"  # never granted
EXCLUSIVE_UNENFORCEABLE = "exclusive_unenforceable"


@dataclass(frozen=True)
class ConsentEvent:
    event_id: str
    user_id: str
    photo_id: str | None
    action: str  # grant | revoke
    at: datetime

    def sort_key(self) -> tuple:
        return (self.at, self.photo_id is not None, self.action == "revoke", self.event_id)


# Every photo as a Photo (fields in order), exclusive by the one rule; the sync and the
# replication quality suite read photos with it.
PHOTOS_SQL = """
select p.photo_id, p.owner_id, coalesce(x.is_exclusive, false), p.image_path, p.sha256,
       p.deleted_at is not null, u.user_id is not null, u.deleted_at is not null
from raw.photos as p
left join raw.users as u on u.user_id = p.owner_id
left join licensing.photo_exclusivity as x on x.photo_id = p.photo_id
"""


@dataclass(frozen=True)
class Photo:
    photo_id: str
    owner_id: str
    exclusive: bool
    image_path: str
    sha256: str | None
    deleted: bool
    owner_known: bool
    owner_deleted: bool


@dataclass(frozen=True)
class Decision:
    wanted: bool
    reason: str  # why wanted (consent_granted) or why not
    event: ConsentEvent | None  # the consent event the decision rests on


class ConsentIndex:
    """The consent events of one region, indexed for per-photo decisions."""

    def __init__(self, events, enforceable: bool = True):
        self.enforceable = enforceable
        self.user_latest: dict[str, ConsentEvent] = {}
        self.user_latest_revoke: dict[str, ConsentEvent] = {}
        self.photo_latest: dict[tuple[str, str], ConsentEvent] = {}
        self.photo_latest_revoke: dict[tuple[str, str], ConsentEvent] = {}
        for event in events:
            if event.action not in ("grant", "revoke"):
                continue
            if event.photo_id is None:
                _keep_latest(self.user_latest, event.user_id, event)
                if event.action == "revoke":
                    _keep_latest(self.user_latest_revoke, event.user_id, event)
            else:
                key = (event.user_id, event.photo_id)
                _keep_latest(self.photo_latest, key, event)
                if event.action == "revoke":
                    _keep_latest(self.photo_latest_revoke, key, event)

    def decide(self, photo: Photo) -> Decision:
        if not photo.owner_known:
            return Decision(False, OWNER_UNKNOWN, None)
        if photo.owner_deleted:
            return Decision(False, ACCOUNT_DELETED, None)
        if photo.deleted:
            return Decision(False, PHOTO_DELETED, None)
        key = (photo.owner_id, photo.photo_id)
        user_event = self.user_latest.get(photo.owner_id)
        photo_event = self.photo_latest.get(key)
        candidates = [e for e in (user_event, photo_event) if e is not None]
        if not candidates:
            return Decision(False, NO_CONSENT, None)
        winner = max(candidates, key=ConsentEvent.sort_key)
        if winner.action != "grant":
            return Decision(False, CONSENT_REVOKED, winner)
        if photo.exclusive and not self.enforceable:
            # needs a photo-level grant later than every applicable revoke
            revokes = [e for e in (self.user_latest_revoke.get(photo.owner_id), self.photo_latest_revoke.get(key)) if e]
            latest_revoke = max(revokes, key=ConsentEvent.sort_key) if revokes else None
            if (
                photo_event is None
                or photo_event.action != "grant"
                or (latest_revoke is not None and latest_revoke.sort_key() > photo_event.sort_key())
            ):
                return Decision(False, EXCLUSIVE_UNENFORCEABLE, winner)
            return Decision(True, CONSENT_GRANTED, photo_event)
        return Decision(True, CONSENT_GRANTED, winner)


def _keep_latest(index: dict, key, event: ConsentEvent) -> None:
    current = index.get(key)
    if current is None or event.sort_key() > current.sort_key():
        index[key] = event


def group_by_region(rows) -> dict[str, list[ConsentEvent]]:
    """rows: (event_id, user_id, region, photo_id, action, at) → {region code: [events]}."""
    by_region: dict[str, list[ConsentEvent]] = defaultdict(list)
    for event_id, user_id, region, photo_id, action, at in rows:
        by_region[(region or "").strip().lower()].append(
            ConsentEvent(event_id, user_id, photo_id or None, (action or "").strip().lower(), at)
        )
    return by_region
