"""Every expectation suite of Lightbox, as code.

A suite reads one pandas frame from the warehouse (or the region stores) and lists the GX
expectations that frame must meet. Relational invariants (a balanced transaction, a
consented object, a repeated sale) are computed in SQL as a ``problem`` column that is null
when all is well and otherwise says, in words, what is wrong; the suite expects it to be
null, so a failure in Data Docs and in ``quality.expectation_results`` reads as a sentence.
Column statistics (ranges, sets, completeness, drift) are plain GX expectations.

Over a large table (raw_photos, raw_sales, licensing_scores) the frame is not the whole table:
it holds the increment (the last ``RECENT_DAYS``) plus, from the whole table, the rows
PostgreSQL finds breaking a whole-table rule, so every violation is still shown with its id
(docs/quality.md).

Severity: ``critical`` suites stop their pipeline (the gate raises); ``warning`` suites are
recorded and shown. The platform's most important invariant (no object in a region without
consent) and the ledger are critical; the planted problems of the sample data (a re-exported
sales file, a day without an EUR rate, a drifted batch of photos) fail warning suites.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from lightbox.quality import CRITICAL, WARNING


class _Expectations:
    """``gx.expectations``, imported when a suite is first built: the registry below (which
    suite judges which table, how severely) is read by the pipelines' fast paths, and
    importing Great Expectations costs seconds."""

    def __getattr__(self, name: str):
        import great_expectations as gx

        return getattr(gx.expectations, name)


E = _Expectations()

# Freshness: the newest event of a source must be at most this many days older than as_of.
MAX_AGE_DAYS = {"photos": ("uploaded_at", 7), "sales": ("sold_at", 7), "fx_rates": ("rate_date", 3),
                "inspections": ("decided_at", 14), "users": ("updated_at", 30)}
# Volume: the newest file of a source against the median of its previous files.
VOLUME_MAX_RATIO = 10.0
RECENT_DAYS = 30  # the window compared with older data for distribution checks
PSI_BINS = 10
PSI_WARN = 0.25  # population stability index above which scores have drifted
PSI_MIN_ROWS = 20
# Photo sizes: the long side in pixels.
MIN_SIDE, MAX_SIDE = 100, 20_000


@dataclass(frozen=True)
class Check:
    """A suite's frame and its expectations, built for one run."""

    frame: pd.DataFrame
    expectations: list
    index_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suite:
    name: str
    stage: str
    severity: str
    asset: str
    description: str
    build: Callable[..., Check]  # build(conn, as_of) -> Check


SUITES: dict[str, Suite] = {}


def suite(name: str, stage: str, severity: str, asset: str):
    def register(fn):
        SUITES[name] = Suite(name, stage, severity, asset, (fn.__doc__ or "").strip(), fn)
        return fn

    return register


def stage_suites(stage: str) -> list[Suite]:
    found = [s for s in SUITES.values() if s.stage == stage]
    if not found:
        raise KeyError(f"no quality suites for stage {stage!r}; stages: {', '.join(stages())}")
    return found


def stages() -> list[str]:
    return list(dict.fromkeys(s.stage for s in SUITES.values()))


def expect(cls, message: str, **kwargs):
    """An expectation with the sentence that explains it (shown in Data Docs)."""
    return cls(notes=message, meta={"message": message}, **kwargs)


def no_problem(message: str, column: str = "problem"):
    return expect(E.ExpectColumnValuesToBeNull, message, column=column)


def query(conn, sql: str, params: dict | None = None) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(sql, params or {})
        columns = [d.name for d in cur.description]
        rows = cur.fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


# ---- raw ---------------------------------------------------------------------------------

# The sales raw_sales validates: the recent ones and every rule breaker. A repeat is found in
# one pass over the sales whose (photo, sold_at, amount, currency) occurs more than once (a
# hash aggregate, then a window over those few): each repeat names the first sale of its group.
SALE_ROWS = """
        with twice as (
            select photo_id, sold_at, amount, currency from raw.sales
            group by photo_id, sold_at, amount, currency having count(*) > 1
        ),
        repeats as (
            select s.sale_id, first_value(s.sale_id) over w as first_sale_id, row_number() over w as n
            from raw.sales as s
            join twice as t using (photo_id, sold_at, amount, currency)
            window w as (partition by s.photo_id, s.sold_at, s.amount, s.currency order by s._file_id, s._line, s.sale_id)
        )
        select s.sale_id, s.photo_id, s.sold_at, s.amount::float8 as amount, s.currency,
            case when p.photo_id is null then 'sale ' || s.sale_id || ' is of unknown photo ' || s.photo_id end
                as unknown_photo,
            case when r.n > 1 then 'sale ' || s.sale_id || ' repeats sale ' || r.first_sale_id
                || ' (same photo, sold_at, amount and currency; ' || f.path || ')' end as repeated_sale
        from raw.sales as s
        left join raw.photos as p on p.photo_id = s.photo_id
        left join repeats as r on r.sale_id = s.sale_id
        left join raw.landing_files as f on f.file_id = s._file_id
        where s.sold_at >= %(since)s or s._arrived_at >= %(since)s
            or p.photo_id is null or r.sale_id is not null
            or not (s.amount > %(min_amount)s and s.amount <= %(max_amount)s)
            or s.currency <> all(%(currencies)s)
"""
MAX_SALE_AMOUNT = 100_000


@suite("raw_sales", "raw", WARNING, "raw.sales")
def raw_sales(conn, as_of: datetime) -> Check:
    """Sales: unique sale ids, one sale per event (a re-exported file repeats earlier sales under
    new sale ids), every sale of a known photo, amounts positive, currencies with fx rates.
    The frame holds the recent sales (sold or arrived in the last ``RECENT_DAYS``: the
    increment) and, from every sale, those that PostgreSQL finds breaking a whole-table rule
    (unknown photo, a repeat and the sale it repeats, amount out of range, currency without
    rates): not a frame of every sale. ``sale_id`` is the primary key of ``raw.sales``."""
    currencies = sorted(query(conn, "select distinct currency from raw.fx_rates")["currency"].tolist()) or ["USD"]
    df = query(conn, SALE_ROWS, {"since": as_of - timedelta(days=RECENT_DAYS), "min_amount": 0,
                                 "max_amount": MAX_SALE_AMOUNT, "currencies": currencies})
    return Check(df, [
        expect(E.ExpectColumnValuesToBeUnique, "Every sale_id appears once.", column="sale_id"),
        expect(E.ExpectCompoundColumnsToBeUnique,
               "A sale is one event: the same photo sold at the same instant for the same amount twice "
               "means a sales file was exported again under new sale ids.",
               column_list=["photo_id", "sold_at", "amount", "currency"]),
        no_problem("No sale repeats an earlier sale (re-exported sales are counted twice in revenue).",
                   "repeated_sale"),
        no_problem("Every sale is of a photo in raw.photos (referential integrity sales -> photos).",
                   "unknown_photo"),
        expect(E.ExpectColumnValuesToBeBetween, "Sale amounts are positive and below 100,000.",
               column="amount", min_value=0, strict_min=True, max_value=MAX_SALE_AMOUNT),
        expect(E.ExpectColumnValuesToBeInSet, "Every sale's currency has fx rates (raw.fx_rates).",
               column="currency", value_set=currencies),
    ], ("sale_id",))


# The rows raw_photos validates: undeleted photos with their owner's problem, if any.
PHOTO_ROWS = """
        select p.photo_id, p.owner_id, p.category, p.keywords, greatest(p.width, p.height)::float8 as max_side,
            p.uploaded_at >= %(since)s as is_recent,
            case when u.user_id is null then 'photo ' || p.photo_id || ' belongs to unknown user ' || p.owner_id end
                as unknown_owner
        from raw.photos as p left join raw.users as u on u.user_id = p.owner_id
        where p.deleted_at is null
"""


@suite("raw_photos", "raw", WARNING, "raw.photos")
def raw_photos(conn, as_of: datetime) -> Check:
    """Photos: unique ids, every photo of a known user, and recent uploads distributed like
    earlier ones (categories seen before, keywords filled in, sensible sizes). The frame holds
    the recent uploads (the increment the distribution checks are about) and, from every
    photo, those that PostgreSQL finds breaking a whole-table rule (unknown owner, size out
    of range): not a frame of every photo."""
    params = {"since": as_of - timedelta(days=RECENT_DAYS), "min_side": MIN_SIDE, "max_side": MAX_SIDE}
    df = query(conn, PHOTO_ROWS + """
          and (p.uploaded_at >= %(since)s or u.user_id is null
               or not greatest(p.width, p.height) between %(min_side)s and %(max_side)s)
    """, params)
    reference = sorted(query(conn, """
        select distinct category from raw.photos
        where deleted_at is null and uploaded_at < %(since)s and category is not null
    """, params).get("category", []))
    exps = [
        expect(E.ExpectColumnValuesToBeUnique, "Every photo_id appears once.", column="photo_id"),
        no_problem("Every photo belongs to a user in raw.users (referential integrity photos -> users).",
                   "unknown_owner"),
        expect(E.ExpectColumnValuesToBeBetween,
               f"Photos are between {MIN_SIDE:,} and {MAX_SIDE:,} pixels on their long side.",
               column="max_side", min_value=MIN_SIDE, max_value=MAX_SIDE),
    ]
    recent = "is_recent==True"
    if reference:
        exps.append(expect(
            E.ExpectColumnValuesToBeInSet,
            f"Photos uploaded in the last {RECENT_DAYS} days use categories seen before (a new category "
            "in a batch of uploads is distribution drift).",
            column="category", value_set=reference, row_condition=recent, condition_parser="pandas"))
    exps.append(expect(
        E.ExpectColumnValuesToNotBeNull,
        f"At least 90% of the photos uploaded in the last {RECENT_DAYS} days have keywords.",
        column="keywords", mostly=0.9, row_condition=recent, condition_parser="pandas"))
    return Check(df, exps, ("photo_id",))


@suite("raw_fx_rates", "raw", WARNING, "raw.fx_rates")
def raw_fx_rates(conn, as_of: datetime) -> Check:
    """FX rates: one rate per currency and day, without gaps, positive; USD is 1."""
    df = query(conn, """
        with bounds as (select min(rate_date) as lo, max(rate_date) as hi from raw.fx_rates),
        currencies as (select distinct currency from raw.fx_rates),
        grid as (
            select c.currency, d::date as rate_date
            from currencies as c cross join bounds as b
            cross join generate_series(b.lo, b.hi, interval '1 day') as d
        )
        select g.currency, g.rate_date::text as rate_date, r.usd_per_unit::float8 as usd_per_unit,
            case when r.currency is null then 'no ' || g.currency || ' rate on ' || g.rate_date end as missing_rate
        from grid as g
        left join raw.fx_rates as r on r.currency = g.currency and r.rate_date = g.rate_date
    """)
    return Check(df, [
        no_problem("Every currency has a rate on every day between the first and the last rate date "
                   "(a missing day leaves settlement lines of that day unconverted).", "missing_rate"),
        expect(E.ExpectColumnValuesToBeBetween, "Rates are positive.", column="usd_per_unit",
               min_value=0, strict_min=True),
        expect(E.ExpectColumnValuesToBeBetween, "One USD is one USD.", column="usd_per_unit",
               min_value=1, max_value=1, row_condition='currency=="USD"', condition_parser="pandas"),
    ], ("currency", "rate_date"))


@suite("raw_landing", "raw", WARNING, "raw.landing_files")
def raw_landing(conn, as_of: datetime) -> Check:
    """Deliveries: each source's newest file against the median of its previous files
    (volume), and each source's newest event against as_of (freshness)."""
    df = query(conn, """
        with ranked as (
            select source, rows_total, row_number() over (partition by source order by file_id desc) as n
            from raw.landing_files where status <> 'failed'
        )
        select source,
            max(rows_total) filter (where n = 1) as latest_rows,
            percentile_cont(0.5) within group (order by rows_total) filter (where n between 2 and 11) as median_rows
        from ranked group by source
    """)
    ratio = df["latest_rows"].astype(float) / df["median_rows"].astype(float).where(df["median_rows"] > 0)
    df["volume_ratio"] = ratio.where(ratio.notna(), None)
    ages, limits = [], []
    for source in df["source"]:
        age = None
        if source in MAX_AGE_DAYS:
            column, limit = MAX_AGE_DAYS[source]
            latest = query(conn, f"select max({column})::timestamptz as at from raw.{source}")["at"].iloc[0]
            if latest is not None and not pd.isna(latest):
                age = (as_of - latest).total_seconds() / 86400
            limits.append(float(limit))
        else:
            limits.append(float("inf"))
        ages.append(age)
    df["age_days"] = pd.Series(ages, dtype="float64")
    df["max_age_days"] = limits
    df["stale"] = [
        f"{s}: newest event {a:.1f} days before as_of (limit {m:.0f})" if a is not None and not math.isnan(a) and a > m else None
        for s, a, m in zip(df["source"], df["age_days"], df["max_age_days"])
    ]
    return Check(df, [
        expect(E.ExpectColumnValuesToBeBetween,
               f"Each source's newest file holds at most {VOLUME_MAX_RATIO:.0f}x the median rows of its "
               "previous files (a burst is a re-delivery or a runaway export).",
               column="volume_ratio", min_value=0, max_value=VOLUME_MAX_RATIO),
        no_problem("Every source's newest event is recent enough for as_of (freshness).", "stale"),
    ], ("source",))


@suite("raw_region_consents", "raw", CRITICAL, "raw.region_consents")
def raw_region_consents(conn, as_of: datetime) -> Check:
    """Consent events drive replication: every event names a user and a region, its action is
    grant or revoke, and it has a time."""
    df = query(conn, """
        select event_id, user_id, lower(trim(region)) as region, lower(trim(action)) as action, at
        from raw.region_consents
    """)
    return Check(df, [
        expect(E.ExpectColumnValuesToNotBeNull, "Every consent event names its user.", column="user_id"),
        expect(E.ExpectColumnValuesToNotBeNull, "Every consent event names its region.", column="region"),
        expect(E.ExpectColumnValuesToNotBeNull, "Every consent event has a time.", column="at"),
        expect(E.ExpectColumnValuesToBeInSet, "A consent event grants or revokes, nothing else.",
               column="action", value_set=["grant", "revoke"]),
    ], ("event_id",))


# ---- scores (the AI scan) --------------------------------------------------------------------

DECISIONS = ("under_review", "changes_required", "not_suitable", "removed")  # the scan's four


@suite("licensing_scores", "scores", CRITICAL, "licensing.scores")
def licensing_scores(conn, as_of: datetime) -> Check:
    """The AI scan's output: probabilities in [0, 1], known decisions, every score from a
    registered model version. The frame holds the scores of the last ``RECENT_DAYS`` (the
    scan's increment) and, from every score, those PostgreSQL finds breaking a whole-table
    rule (an unregistered model; the table's own constraints keep probabilities and decisions
    in range): not a frame of every score."""
    df = query(conn, """
        select s.photo_id, s.model_version, s.p_suitable::float8 as p_suitable, s.p_sale::float8 as p_sale, s.decision,
            case when m.version is null then 'score of ' || s.photo_id || ' by unregistered model ' || s.model_version end
                as unknown_model
        from licensing.scores as s
        left join licensing.model_versions as m on m.version = s.model_version
        where s.scored_at >= %(since)s or m.version is null
            or s.p_suitable is null or not (s.p_suitable between 0 and 1 and s.p_sale between 0 and 1)
            or s.decision <> all(%(decisions)s)
    """, {"since": as_of - timedelta(days=RECENT_DAYS), "decisions": list(DECISIONS)})
    return Check(df, [
        expect(E.ExpectColumnValuesToBeBetween, "p_suitable is a probability in [0, 1].",
               column="p_suitable", min_value=0, max_value=1),
        expect(E.ExpectColumnValuesToBeBetween, "p_sale is a probability in [0, 1].",
               column="p_sale", min_value=0, max_value=1),
        expect(E.ExpectColumnValuesToNotBeNull, "Every score has p_suitable.", column="p_suitable"),
        expect(E.ExpectColumnValuesToBeInSet, "Decisions are the scan's four.",
               column="decision", value_set=list(DECISIONS)),
        no_problem("Every score comes from a model version in licensing.model_versions.", "unknown_model"),
    ], ("photo_id", "model_version"))


def psi(reference, current, bins: int = PSI_BINS) -> float | None:
    """Population stability index of two samples of probabilities, on equal-width bins."""
    ref = pd.Series(reference, dtype="float64").dropna()
    cur = pd.Series(current, dtype="float64").dropna()
    if len(ref) < PSI_MIN_ROWS or len(cur) < PSI_MIN_ROWS:
        return None
    edges = [i / bins for i in range(bins + 1)]
    edges[-1] = 1.0 + 1e-9
    r = pd.cut(ref.clip(0, 1), edges, right=False).value_counts(normalize=True, sort=False).to_numpy()
    c = pd.cut(cur.clip(0, 1), edges, right=False).value_counts(normalize=True, sort=False).to_numpy()
    return psi_from_fractions(list(r), list(c))


def psi_from_fractions(reference: list[float], current: list[float], eps: float = 1e-4) -> float:
    total = 0.0
    for r, c in zip(reference, current):
        r, c = max(float(r), eps), max(float(c), eps)
        total += (c - r) * math.log(c / r)
    return round(total, 6)


# The latest score of each photo, binned in PostgreSQL: per score column and bin count, how
# many photos uploaded before and in the last RECENT_DAYS fall in each bin. width_bucket over
# the bins' lower bounds is pandas.cut(..., right=False) with the last bin closed at 1.
SCORE_BINS = """
        with latest as (
            select distinct on (s.photo_id) s.p_suitable::float8 as p_suitable, s.p_sale::float8 as p_sale,
                coalesce(p.uploaded_at >= %(since)s, false) as is_recent
            from licensing.scores as s join raw.photos as p on p.photo_id = s.photo_id
            order by s.photo_id, s.scored_at desc
        ),
        binned as (
            select is_recent,
                width_bucket(least(greatest(p_suitable, 0), 1), %(suitable_training)s::float8[]) as suitable_training,
                width_bucket(least(greatest(p_suitable, 0), 1), %(default_edges)s::float8[]) as suitable_default,
                width_bucket(least(greatest(p_sale, 0), 1), %(sale_training)s::float8[]) as sale_training,
                width_bucket(least(greatest(p_sale, 0), 1), %(default_edges)s::float8[]) as sale_default
            from latest
        )
        select is_recent, grouping(suitable_training) = 0 as st, grouping(suitable_default) = 0 as sd,
            grouping(sale_training) = 0 as pt, grouping(sale_default) = 0 as pd,
            coalesce(suitable_training, suitable_default, sale_training, sale_default) as bin, count(*) as n
        from binned
        group by grouping sets ((is_recent, suitable_training), (is_recent, suitable_default),
                                (is_recent, sale_training), (is_recent, sale_default))
"""


def _lower_bounds(bins: int) -> list[float]:
    return [i / bins for i in range(bins)]


def _fractions(counts: dict[int, int], bins: int) -> list[float]:
    total = sum(counts.values())
    return [counts.get(i, 0) / total if total else 0.0 for i in range(1, bins + 1)]


@suite("licensing_score_drift", "scores", WARNING, "licensing.scores")
def licensing_score_drift(conn, as_of: datetime) -> Check:
    """Score drift: population stability index of the champion's scores of recent uploads
    against the training distribution (licensing.model_versions.metrics
    ``score_distribution``) or, without one, against the scores of earlier uploads.
    PostgreSQL bins the latest score of each photo (recent and earlier uploads); the frame
    holds one row per score column, not a score per photo."""
    since = as_of - timedelta(days=RECENT_DAYS)
    champion = query(conn, "select version, metrics from licensing.model_versions where is_champion")
    training = {}
    if len(champion):
        training = (champion["metrics"].iloc[0] or {}).get("score_distribution") or {}
    columns = {"p_suitable": ("suitable", "st", "sd"), "p_sale": ("sale", "pt", "pd")}
    training_bins = {c: len((training.get(c) or {}).get("fractions") or []) or PSI_BINS for c in columns}
    counts = query(conn, SCORE_BINS, {
        "since": since, "default_edges": _lower_bounds(PSI_BINS),
        **{f"{short}_training": _lower_bounds(training_bins[c]) for c, (short, _, _) in columns.items()},
    })
    rows = []
    for column, (_, training_flag, default_flag) in columns.items():
        binned = {}  # (training or default bins, is_recent) -> {bin: photos}
        for r in counts.itertuples():
            for kind, flag in (("training", training_flag), ("default", default_flag)):
                if getattr(r, flag) and r.bin is not None and not pd.isna(r.bin):
                    binned.setdefault((kind, bool(r.is_recent)), {})[int(r.bin)] = int(r.n)
        recent_rows = sum(binned.get(("default", True), {}).values())
        dist = training.get(column) or {}
        if dist.get("fractions") and recent_rows >= PSI_MIN_ROWS:
            current = _fractions(binned.get(("training", True), {}), training_bins[column])
            value = psi_from_fractions(dist["fractions"], current)
            reference = "training distribution of the champion"
        else:
            older = sum(binned.get(("default", False), {}).values())
            value = None
            if older >= PSI_MIN_ROWS and recent_rows >= PSI_MIN_ROWS:
                value = psi_from_fractions(_fractions(binned[("default", False)], PSI_BINS),
                                           _fractions(binned[("default", True)], PSI_BINS))
            reference = f"scores of photos uploaded before {since.date()}"
        rows.append({"score": column, "psi": value, "reference": reference, "recent_rows": recent_rows})
    df = pd.DataFrame(rows)
    df["psi"] = df["psi"].astype("float64")
    return Check(df, [
        expect(E.ExpectColumnValuesToBeBetween,
               f"Scores of photos uploaded in the last {RECENT_DAYS} days have not drifted: population "
               f"stability index at most {PSI_WARN} (null when under {PSI_MIN_ROWS} photos on a side).",
               column="psi", min_value=0, max_value=PSI_WARN),
    ], ("score",))


# ---- matches (the infringement sweep) -----------------------------------------------------

def _thresholds() -> dict[str, float]:
    from lightbox.matching.index import METHOD_THRESHOLDS

    return {method: float(limit) for method, limit in METHOD_THRESHOLDS.items()}


@suite("infringement_matches", "matches", WARNING, "infringement.matches")
def infringement_matches(conn, as_of: datetime) -> Check:
    """The sweep's matches: every distance within its method's published threshold, and every
    match that became a case carries its evidence."""
    limits = _thresholds()
    df = query(conn, """
        select match_id, photo_id, page_url, method, distance::float8 as distance, status, evidence_uri, case_id
        from infringement.matches
    """)
    df["threshold"] = df["method"].map(limits).astype("float64")
    df["over_threshold"] = [
        f"match {m} ({p}): {method} distance {d:g} above its threshold {t:g}" if t == t and d > t
        else (f"match {m} ({p}): unknown method {method}" if t != t else None)
        for m, p, method, d, t in zip(df["match_id"], df["photo_id"], df["method"], df["distance"], df["threshold"])
    ]
    return Check(df, [
        no_problem("Every match's distance is within its method's threshold (lightbox.matching.index).",
                   "over_threshold"),
        expect(E.ExpectColumnValuesToBeBetween, "Distances are not negative.", column="distance", min_value=0),
        expect(E.ExpectColumnValuesToNotBeNull, "Every match that opened a case has its evidence.",
               column="evidence_uri", row_condition='status=="case"', condition_parser="pandas"),
    ], ("match_id",))


@suite("infringement_cases", "matches", CRITICAL, "infringement.cases")
def infringement_cases(conn, as_of: datetime) -> Check:
    """Cases go to enforcement partners: every case has its evidence and names its photo's owner."""
    df = query(conn, """
        select c.case_id, c.photo_id, c.owner_id, c.infringer_domain, c.status,
            case when nullif(c.evidence_uri, '') is null then 'case ' || c.case_id || ' (' || c.photo_id || ' on '
                || c.infringer_domain || ') has no evidence' end as missing_evidence
        from infringement.cases as c
    """)
    return Check(df, [
        no_problem("Every case has an evidence_uri (partners act on evidence only).", "missing_evidence"),
        expect(E.ExpectColumnValuesToBeUnique, "case_id is unique.", column="case_id"),
    ], ("case_id",))


# ---- ledger (settlement) -------------------------------------------------------------------

@suite("settlement_ledger", "ledger", CRITICAL, "settlement.ledger")
def settlement_ledger(conn, as_of: datetime) -> Check:
    """The double-entry ledger: every transaction balances per currency and in USD, and every
    posting belongs to a recorded transaction."""
    df = query(conn, """
        with sums as (
            select l.txn_id, l.currency, sum(l.amount) as amount, sum(l.amount_usd) as amount_usd, count(*) as entries
            from settlement.ledger as l group by l.txn_id, l.currency
        )
        select s.txn_id, s.currency, s.entries, s.amount::float8 as imbalance, s.amount_usd::float8 as imbalance_usd,
            case
                when s.amount <> 0 or s.amount_usd <> 0 then
                    'txn ' || s.txn_id || ' ' || s.currency || ' is unbalanced: entries sum to ' || s.amount
                    || ' ' || s.currency || ' (USD ' || s.amount_usd || ')'
                when t.txn_id is null then 'txn ' || s.txn_id || ' has postings but no settlement.transactions row'
            end as problem
        from sums as s left join settlement.transactions as t on t.txn_id = s.txn_id
    """)
    return Check(df, [
        no_problem("Every ledger transaction balances per currency and in USD, and is a recorded transaction."),
        expect(E.ExpectColumnValuesToBeBetween, "Per transaction and currency, debits equal credits.",
               column="imbalance", min_value=0, max_value=0),
    ], ("txn_id", "currency"))


@suite("settlement_credits", "ledger", CRITICAL, "settlement.credits")
def settlement_credits(conn, as_of: datetime) -> Check:
    """Photographer credits: each equals the photographer's share of its line's net (gross minus
    partner fee, rounded half to even in the currency's minor units), equals the ledger's
    payable posting, and every transaction is credited."""
    df = query(conn, """
        with payable as (
            select txn_id, -sum(amount) as amount from settlement.ledger
            where account like 'photographer_payable:%%' group by txn_id
        )
        select t.txn_id, t.partner, t.report_id, t.line_id, t.currency, c.credit_id,
            c.amount::float8 as credited, t.photographer_amount::float8 as share_amount,
            case
                when c.credit_id is null then 'txn ' || t.txn_id || ' (' || t.partner || '/' || t.line_id || ') has no credit'
                when c.amount <> t.photographer_amount then 'credit ' || c.credit_id || ' is ' || c.amount || ' ' || c.currency
                    || ', the transaction''s photographer share is ' || t.photographer_amount
                when t.photographer_amount <> settlement.round_half_even(
                        (t.gross_amount - t.partner_fee) * t.photographer_share, coalesce(cur.minor_units, 2))
                    then 'txn ' || t.txn_id || ': photographer amount ' || t.photographer_amount || ' is not '
                    || t.photographer_share || ' of the net ' || (t.gross_amount - t.partner_fee)
                when coalesce(p.amount, 0) <> c.amount then 'credit ' || c.credit_id || ' is ' || c.amount
                    || ' but the ledger owes the photographer ' || coalesce(p.amount, 0)
            end as problem
        from settlement.transactions as t
        left join settlement.credits as c on c.txn_id = t.txn_id
        left join settlement.currencies as cur on cur.currency = t.currency
        left join payable as p on p.txn_id = t.txn_id
    """)
    return Check(df, [
        no_problem("Every transaction is credited once, with exactly the photographer's share of its net, "
                   "and the ledger owes the photographer that amount."),
    ], ("txn_id",))


# ---- replication -------------------------------------------------------------------------------

def consent_decisions(conn, region) -> dict:
    """{photo_id: Decision} for every photo in raw.photos, by the replication consent model."""
    from lightbox.replication import consent as c

    with conn.cursor() as cur:
        cur.execute(
            """select event_id, user_id, region, photo_id, action, at from raw.region_consents
               where lower(trim(region)) = %s""", (region.code,))
        index = c.ConsentIndex(c.group_by_region(cur.fetchall()).get(region.code, []), region.enforceable)
        cur.execute(c.PHOTOS_SQL)
        photos = {row[0]: c.Photo(*row) for row in cur.fetchall()}
    return {pid: index.decide(photo) for pid, photo in photos.items()}


@suite("replication_consent", "replication", CRITICAL, "replication regions (object stores)")
def replication_consent(conn, as_of: datetime) -> Check:
    """No object in a region without consent: every object found by listing each region's
    store (not the inventory) is a photo whose owner consents to that region now."""
    from lightbox.config import settings
    from lightbox.replication.store import RegionStore, photo_id_of

    rows = []
    for region in settings().regions:
        listing = RegionStore(region.uri).list()  # an unreachable region raises: the check cannot pass
        decisions = consent_decisions(conn, region) if listing else {}
        for key in sorted(listing):
            photo_id = photo_id_of(key)
            decision = decisions.get(photo_id) if photo_id else None
            if photo_id is None:
                problem = f"{region.code}: object {key} is not a Lightbox photo key"
            elif decision is None:
                problem = f"{region.code}: object {key} is photo {photo_id}, unknown to raw.photos"
            elif not decision.wanted:
                problem = f"{region.code}: photo {photo_id} is in the region without consent ({decision.reason})"
            else:
                problem = None
            rows.append({"region": region.code, "object_key": key, "photo_id": photo_id, "problem": problem})
    df = pd.DataFrame(rows, columns=["region", "object_key", "photo_id", "problem"])
    return Check(df, [
        no_problem("Nothing is in a regional mirror without its owner's consent to that region "
                   "(checked from the stores themselves)."),
    ], ("region", "object_key"))


@suite("replication_inventory", "replication", WARNING, "replication.inventory")
def replication_inventory(conn, as_of: datetime) -> Check:
    """The inventory matches the stores: every inventory row's object is in its store and every
    object of a store is in the inventory (drift is repaired by the next sync)."""
    from lightbox.config import settings
    from lightbox.replication.store import RegionStore

    inventory = query(conn, "select region, photo_id, object_key from replication.inventory")
    rows = []
    for region in settings().regions:
        listing = set(RegionStore(region.uri).list())
        held = set(inventory.loc[inventory["region"] == region.code, "object_key"]) if len(inventory) else set()
        for key in sorted(held - listing):
            rows.append({"region": region.code, "object_key": key, "drift": f"{region.code}: inventory lists {key}, the store lacks it"})
        for key in sorted(listing - held):
            rows.append({"region": region.code, "object_key": key, "drift": f"{region.code}: store holds {key}, the inventory does not"})
        for key in sorted(listing & held):
            rows.append({"region": region.code, "object_key": key, "drift": None})
    df = pd.DataFrame(rows, columns=["region", "object_key", "drift"])
    return Check(df, [no_problem("The inventory and the stores agree.", "drift")], ("region", "object_key"))
