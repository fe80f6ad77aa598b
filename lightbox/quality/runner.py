"""Run suites with Great Expectations and record them.

The GX project is a file context in ``settings().docs_dir / "gx"``: suites, validation
definitions and every validation result are kept there, so the Data Docs site (built into
``settings().docs_dir / "data_docs"``, ``index.html``) lists every run, not only the last.
One process at a time uses the project (a file lock), so gates of parallel DAG runs and the
report never interleave their writes.

Every suite run writes one ``quality.results`` row (keyed by run id and suite: a retried
task overwrites its own row, another run adds a row) and one ``quality.expectation_results``
row per expectation.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)

SITE = "lightbox"
DATASOURCE = "lightbox"
DOCS_URL = "http://localhost:8091/"  # where `lightbox up` serves the site


@dataclass
class SuiteResult:
    run_id: str
    suite: str
    stage: str
    severity: str
    asset: str
    success: bool
    evaluated: int
    failed: int
    rows: int
    run_at: datetime
    docs_uri: str | None = None
    failures: list[dict] = field(default_factory=list)  # {expectation, column, message, sample}

    @property
    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: {self.evaluated} expectations met over {self.rows} rows"
        parts = [f"{f['message']} e.g. {_brief(f['sample'])}" if f["sample"] else f["message"] for f in self.failures]
        return f"{self.suite}: {self.failed} of {self.evaluated} expectations failed: " + " | ".join(parts)


def _brief(sample: list, n: int = 3) -> str:
    """The first few unexpected values, as short as they can be said."""
    items = []
    for item in sample[:n]:
        if isinstance(item, dict):
            texts = [v for k, v in item.items() if isinstance(v, str) and " " in v]
            item = texts[0] if texts else ", ".join(f"{k}={v}" for k, v in item.items())
        items.append(str(item))
    more = f" (+{len(sample) - n} more)" if len(sample) > n else ""
    return "; ".join(items) + more


def docs_dir() -> Path:
    from lightbox.config import settings

    return settings().docs_dir


def docs_index() -> Path:
    return docs_dir() / "data_docs" / "index.html"


@contextlib.contextmanager
def gx_context():
    """The file context of the GX project, held exclusively while in use."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    root = docs_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".gx.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            context = gx.get_context(mode="file", project_root_dir=str(root))
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            if SITE not in context.get_site_names():
                context.add_data_docs_site(SITE, {
                    "class_name": "SiteBuilder",
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                      "base_directory": str(root / "data_docs")},
                })
            yield context
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "run"


def _jsonable(value):
    """Plain JSON (numpy scalars to Python, NaN to null)."""
    def clean(v):
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if hasattr(v, "item") and not isinstance(v, (str, bytes)):
            try:
                v = v.item()
            except (TypeError, ValueError):
                return str(v)
        if isinstance(v, float) and v != v:
            return None
        if v is None or isinstance(v, (str, int, float, bool)):
            return v
        return str(v)

    return clean(value)


def _sample(result: dict) -> list:
    sample = result.get("partial_unexpected_index_list") or result.get("partial_unexpected_list") or []
    return _jsonable(sample[:10])


def _observed(result: dict):
    if "observed_value" in result:
        return result["observed_value"]
    if "unexpected_count" in result:
        return f"{result['unexpected_count']} of {result.get('element_count')} rows unexpected"
    return None


def validate(context, suite, run_id: str, as_of: datetime, conn) -> tuple[SuiteResult, object]:
    """Build the suite's frame, validate it, return the result and its GX store key."""
    import great_expectations as gx

    check = suite.build(conn, as_of)
    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    try:
        asset = source.get_asset(suite.name)
    except LookupError:
        asset = source.add_dataframe_asset(suite.name)
    if asset.batch_definitions:
        batch = asset.batch_definitions[0]
    else:
        batch = asset.add_batch_definition_whole_dataframe("whole")
    gx_suite = gx.ExpectationSuite(
        name=suite.name,
        expectations=check.expectations,
        meta={"notes": f"**{suite.severity.upper()}** ({suite.stage}, {suite.asset}). {suite.description}"},
    )
    gx_suite = context.suites.add_or_update(gx_suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": 10}
    if check.index_columns:
        result_format["unexpected_index_column_names"] = list(check.index_columns)
    run_at = datetime.now(timezone.utc)
    gx_run = gx.RunIdentifier(run_name=_safe(run_id), run_time=run_at)
    outcome = definition.run(batch_parameters={"dataframe": check.frame}, result_format=result_format, run_id=gx_run)
    failures = []
    rows = []
    for position, r in enumerate(outcome.results):
        config = r.expectation_config
        message = (config.meta or {}).get("message") or config.notes or config.type
        column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list") or []) or None
        raised = (r.exception_info or {}).get("raised_exception")
        detail = r.result or {}
        sample = _sample(detail)
        if raised:
            sample = [str((r.exception_info or {}).get("exception_message"))]
        row = {
            "position": position, "expectation": config.type, "column": column, "success": bool(r.success),
            "unexpected_count": detail.get("unexpected_count"), "observed": _observed(detail),
            "sample": sample, "message": message,
        }
        rows.append(row)
        if not r.success:
            failures.append(row)
    key = None
    for k in context.validation_results_store.list_keys():
        if k.expectation_suite_identifier.name == suite.name and k.run_id.run_name == gx_run.run_name \
                and k.run_id.run_time == gx_run.run_time:
            key = k
    result = SuiteResult(
        run_id=run_id, suite=suite.name, stage=suite.stage, severity=suite.severity, asset=suite.asset,
        success=bool(outcome.success), evaluated=len(outcome.results), failed=len(failures),
        rows=len(check.frame), run_at=run_at, failures=failures,
    )
    result._rows = rows  # per-expectation rows, for record()
    return result, key


def record(conn, result: SuiteResult, as_of: datetime) -> None:
    """One quality.results row per suite run (a rerun of the same run id replaces its own)."""
    with conn.cursor() as cur:
        cur.execute("delete from quality.results where run_id = %s and suite = %s", (result.run_id, result.suite))
        cur.execute(
            """insert into quality.results (run_id, suite, stage, severity, asset, success, evaluated, failed,
                   run_at, as_of, docs_uri, summary, rows_checked)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (result.run_id, result.suite, result.stage, result.severity, result.asset, result.success,
             result.evaluated, result.failed, result.run_at, as_of, result.docs_uri, result.summary[:4000], result.rows),
        )
        for row in getattr(result, "_rows", []):
            cur.execute(
                """insert into quality.expectation_results (run_id, suite, position, expectation, column_name, success,
                       unexpected_count, observed, unexpected_sample, message)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (result.run_id, result.suite, row["position"], row["expectation"], row["column"], row["success"],
                 row["unexpected_count"], None if row["observed"] is None else str(row["observed"]),
                 json.dumps(row["sample"], default=str), row["message"]),
            )


def run_suites(suites, run_id: str, as_of: datetime, *, build_docs: str = "results") -> list[SuiteResult]:
    """Validate ``suites``, record each in quality.results and build their Data Docs pages.
    ``build_docs``: ``"results"`` renders the new results and the index, ``"all"`` rebuilds
    the whole site, ``"none"`` skips Data Docs."""
    from lightbox import db

    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    as_of = datetime.fromtimestamp(as_of.timestamp(), tz=timezone.utc)
    results: list[tuple[SuiteResult, object]] = []
    conn = db.connect()
    conn.autocommit = True
    try:
        with gx_context() as context:
            for suite in suites:
                result, key = validate(context, suite, run_id, as_of, conn)
                results.append((result, key))
            if build_docs != "none":
                keys = [k for _, k in results if k is not None]
                if build_docs == "all":
                    context.build_data_docs(site_names=[SITE])
                elif keys:
                    from great_expectations.data_context.types.resource_identifiers import (
                        ExpectationSuiteIdentifier,
                    )

                    suites_ids = [ExpectationSuiteIdentifier(name=s.name) for s in suites]
                    context.build_data_docs(site_names=[SITE], resource_identifiers=keys + suites_ids)
                for result, key in results:
                    if key is not None:
                        urls = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE)
                        result.docs_uri = urls[0]["site_url"] if urls else None
        conn.autocommit = False
        with conn:  # the run's rows in one transaction
            for result, _ in results:
                record(conn, result, as_of)
    finally:
        conn.close()
    return [r for r, _ in results]
