"""The infringement sweep after the crawl: what each sighting means (``actioner``), the
evidence behind it (``evidence``), the report (``report``), and the steps the
``infringement_sweep`` DAG runs (``sweep``). No Airflow imports here."""
