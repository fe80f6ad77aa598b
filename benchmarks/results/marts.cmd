# Quiet machine; the large landing folder is the one benchmarks/ingest.py generated (plus the
# extra days of sales earlier runs of this script added, hence rows_loaded above 1.8 M).
.venv/bin/python benchmarks/marts.py --scales medium,large --work /tmp/lead-bench-marts > benchmarks/results/marts.jsonl
