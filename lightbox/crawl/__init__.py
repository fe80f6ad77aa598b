"""The crawler: a safe fetcher (``fetch``), robots.txt (``robots``), image and link
discovery in pages (``discover``), a frontier in PostgreSQL (``frontier``) and the sweep
that ties them together (``crawler``). Nothing here imports Airflow."""
