-- The photographer's view of the AI scan (docs/aiscan.md): where each photo submitted to
-- licensing is, and when it got there. Idempotent.

-- When each score was actually written (scored_at is the scan's logical time: its run's
-- data interval end, or the moment the Asset event queued the run). Rows from before this
-- column existed stay null.
alter table licensing.scores add column if not exists written_at timestamptz;
alter table licensing.scores alter column written_at set default now();

-- One row per photo submitted to licensing (by hand, or uploaded while its owner was opted
-- in to auto licensing). status, first that applies:
--   removed           the photographer removed it from licensing (or deleted it), or the
--                     scan found it removed;
--   decided           an inspector decided it (the queue, the inspector app or raw.inspections);
--   in_review         in the inspectors' queue (pending or claimed);
--   scanned           scored, not queued: not_suitable or changes_required, with the reasons;
--   waiting_for_scan  not scored yet.
-- The times of each step (UTC): submitted_at (the marketplace's row time), landed_at (loaded
-- into raw: the load's transaction time), scored_at (the scan's logical time), scanned_at (when
-- the score was written; null for scores older than that column), queued_at, claimed_at,
-- decided_at, removed_at; scan_seconds = scanned_at - landed_at, the AI scan's latency.
create or replace view licensing.submission_status as
with submitted as (
    select
        p.photo_id,
        p.owner_id,
        p.uploaded_at,
        coalesce(p.submitted_for_licensing, false) as submitted_by_hand,
        coalesce(ou.auto_licensing_at_upload, false) as auto_submitted,
        coalesce(p.removed_from_licensing, false) or p.deleted_at is not null as is_removed,
        p.deleted_at
    from raw.photos as p
    left join licensing.photo_owner_at_upload as ou on ou.photo_id = p.photo_id
    where coalesce(p.submitted_for_licensing, false) or coalesce(ou.auto_licensing_at_upload, false)
),

first_submitted_version as (
    -- the first version of the photo that was submitted (any version, for auto licensing)
    select distinct on (h.photo_id)
        h.photo_id,
        h.updated_at as submitted_at,
        h._arrived_at as landed_at
    from raw.photos_history as h
    inner join submitted as s on s.photo_id = h.photo_id
    where s.auto_submitted or coalesce(h.submitted_for_licensing, false)
    order by h.photo_id, h._arrived_at, h._file_id, h._line
),

first_removed_version as (
    select distinct on (h.photo_id)
        h.photo_id,
        coalesce(h.deleted_at, h.updated_at) as removed_at
    from raw.photos_history as h
    inner join submitted as s on s.photo_id = h.photo_id and s.is_removed
    where coalesce(h.removed_from_licensing, false) or h.deleted_at is not null
    order by h.photo_id, h._arrived_at, h._file_id, h._line
),

scan as (
    -- the scan that routed the photo: its first score (a later champion re-prioritises, it
    -- does not re-route)
    select distinct on (sc.photo_id)
        sc.photo_id,
        sc.model_version,
        sc.p_suitable,
        sc.decision,
        sc.reasons,
        sc.scored_at,
        sc.written_at as scanned_at
    from licensing.scores as sc
    inner join submitted as s on s.photo_id = sc.photo_id
    order by sc.photo_id, sc.scored_at, sc.model_version
),

inspector_decision as (
    select distinct on (d.photo_id)
        d.photo_id,
        d.decision,
        d.reason,
        d.decided_at
    from (
        select photo_id, decision, reason, decided_at from raw.inspections
        union all
        select photo_id, decision, reason, decided_at from licensing.decisions
    ) as d
    inner join submitted as s on s.photo_id = d.photo_id
    order by d.photo_id, d.decided_at desc
)

select
    s.photo_id,
    s.owner_id,
    case
        when s.is_removed or scan.decision = 'removed' then 'removed'
        when q.status = 'decided' or i.photo_id is not null then 'decided'
        when q.status in ('pending', 'claimed') then 'in_review'
        when scan.photo_id is not null then 'scanned'
        else 'waiting_for_scan'
    end as status,
    case when s.submitted_by_hand then 'by_hand' else 'auto_licensing' end as submitted_by,
    scan.decision as scan_decision,
    scan.reasons as scan_reasons,
    scan.p_suitable,
    scan.model_version,
    q.status as review_status,
    coalesce(q.decision, i.decision) as review_decision,
    coalesce(q.decision_reason, i.reason) as review_reason,
    s.uploaded_at,
    fs.submitted_at,
    fs.landed_at,
    scan.scored_at,
    scan.scanned_at,
    q.enqueued_at as queued_at,
    q.claimed_at,
    coalesce(q.decided_at, i.decided_at) as decided_at,
    fr.removed_at,
    extract(epoch from scan.scanned_at - fs.landed_at) as scan_seconds
from submitted as s
left join first_submitted_version as fs on fs.photo_id = s.photo_id
left join first_removed_version as fr on fr.photo_id = s.photo_id
left join scan on scan.photo_id = s.photo_id
left join licensing.review_queue as q on q.photo_id = s.photo_id
left join inspector_decision as i on i.photo_id = s.photo_id;
