"""Data quality for Lightbox: Great Expectations (GX 1.x) suites written as code, run over
pandas frames read from PostgreSQL.

- ``suites``: every suite, per pipeline stage (raw, scores, matches, ledger, replication),
  each ``critical`` (a failure stops the pipeline) or ``warning`` (recorded and shown).
- ``runner``: validates suites with a GX file context under ``settings().docs_dir``, writes
  one ``quality.results`` row per suite run (and one ``quality.expectation_results`` row per
  expectation), and builds the Data Docs site into ``settings().docs_dir / "data_docs"``.
- ``gates``: ``run_gate(stage, run_id, as_of)``, what the ``validate_<stage>`` tasks call.

Nothing here imports Airflow.
"""

CRITICAL = "critical"
WARNING = "warning"
