"""Names of the Airflow Assets that link the DAGs (``Asset(name)`` in the DAG files). Plain
strings here so that this package never imports Airflow."""

LANDING = "lightbox.landing"  # the landing folder (its watcher fires when files arrive): ingest_landing
RAW = "lightbox.raw"  # ingest_landing: new landing rows loaded
LICENSING_MODEL = "lightbox.licensing.model_versions"  # licensing_train_model: a version registered
LICENSING_SCORES = "lightbox.licensing.scores"  # licensing_score_submissions
EXCLUSIVITY_VIOLATIONS = "lightbox.exclusivity.violations"  # exclusivity_audit
INFRINGEMENT_CASES = "lightbox.infringement.cases"  # infringement_sweep
SETTLEMENT_LEDGER = "lightbox.settlement.ledger"  # settlement_reconcile
REPLICATION_INVENTORY = "lightbox.replication.inventory"  # replication_sync
MARTS = "lightbox.marts"  # marts_build
QUALITY_RESULTS = "lightbox.quality.results"  # quality_report
