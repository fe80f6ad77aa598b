"""Settlement reconciliation: partner settlement reports → cases → a double-entry ledger,
photographer credits (exactly once) and discrepancies finance can read.

``reconcile.py`` holds the set-based steps the ``settlement_reconcile`` DAG runs;
``money.py`` the Decimal rules they follow; ``domains.py`` registrable-domain matching.
"""
