"""The consent model on its own (no database)."""
from datetime import datetime, timedelta, timezone

from lightbox.replication.consent import ConsentEvent, ConsentIndex, Photo

T = datetime(2026, 1, 1, tzinfo=timezone.utc)


def ev(event_id, action, minute, photo_id=None, user_id="u1"):
    return ConsentEvent(event_id, user_id, photo_id, action, T + timedelta(minutes=minute))


def photo(photo_id="p1", owner="u1", exclusive=False, deleted=False, owner_deleted=False, owner_known=True):
    return Photo(photo_id, owner, exclusive, f"images/{photo_id}.jpg", None, deleted, owner_known, owner_deleted)


def wanted(events, p=None, enforceable=True):
    d = ConsentIndex(events, enforceable).decide(p or photo())
    return d.wanted, d.reason, d.event.event_id if d.event else None


def test_nothing_without_a_grant():
    assert wanted([]) == (False, "no_consent", None)


def test_user_level_grant_then_revoke():
    assert wanted([ev("e1", "grant", 0)]) == (True, "consent_granted", "e1")
    assert wanted([ev("e1", "grant", 0), ev("e2", "revoke", 1)]) == (False, "consent_revoked", "e2")
    assert wanted([ev("e2", "revoke", 1), ev("e1", "grant", 2)]) == (True, "consent_granted", "e1")


def test_photo_level_overrides_earlier_user_level():
    assert wanted([ev("e1", "grant", 0), ev("e2", "revoke", 1, "p1")])[0] is False
    assert wanted([ev("e1", "grant", 0), ev("e2", "revoke", 1, "p2")])[0] is True  # other photo
    assert wanted([ev("e1", "revoke", 0), ev("e2", "grant", 1, "p1")]) == (True, "consent_granted", "e2")


def test_later_user_level_event_supersedes_photo_level():
    # "revoke everything" after a photo-level grant removes that photo too
    assert wanted([ev("e1", "grant", 0, "p1"), ev("e2", "revoke", 1)])[0] is False


def test_ties_prefer_photo_level_then_revoke():
    assert wanted([ev("e1", "grant", 0), ev("e2", "revoke", 0, "p1")])[0] is False
    assert wanted([ev("e1", "revoke", 0), ev("e2", "grant", 0, "p1")])[0] is True
    assert wanted([ev("e1", "grant", 0), ev("e2", "revoke", 0)])[0] is False


def test_only_the_owners_events_count():
    assert wanted([ev("e1", "grant", 0, "p1", user_id="u2")])[0] is False


def test_deleted_photos_and_accounts_never():
    grant = [ev("e1", "grant", 0)]
    assert wanted(grant, photo(deleted=True))[:2] == (False, "photo_deleted")
    assert wanted(grant, photo(owner_deleted=True))[:2] == (False, "account_deleted")
    assert wanted(grant, photo(owner_known=False))[:2] == (False, "owner_unknown")


def test_unenforceable_region_needs_photo_level_grant_for_exclusive_photos():
    exclusive = photo(exclusive=True)
    user_grant = [ev("e1", "grant", 0)]
    assert wanted(user_grant, exclusive, enforceable=True)[0] is True
    assert wanted(user_grant, exclusive, enforceable=False)[:2] == (False, "exclusive_unenforceable")
    assert wanted(user_grant, photo(exclusive=False), enforceable=False)[0] is True
    photo_grant = [ev("e1", "grant", 0), ev("e2", "grant", 1, "p1")]
    assert wanted(photo_grant, exclusive, enforceable=False) == (True, "consent_granted", "e2")
    # a later user-level revoke, then a user-level grant: the photo-level grant is spent
    respent = photo_grant + [ev("e3", "revoke", 2), ev("e4", "grant", 3)]
    assert wanted(respent, exclusive, enforceable=False)[:2] == (False, "exclusive_unenforceable")
    # a later user-level grant keeps the photo-level grant valid
    assert wanted(photo_grant + [ev("e5", "grant", 4)], exclusive, enforceable=False)[:2] == (True, "consent_granted")
