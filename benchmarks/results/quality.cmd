# Large seed: the database benchmarks/marts.py --keep left (copied as bench_quality_large: 1 M
# photos, the day of new data included); as_of = the day after the newest upload.
# Shared 2-core machine under load 9-20. Caveat on the "before" raw_photos figure (955 s): for
# most of it an orphaned query of an earlier, killed run of this script (raw_sales) was still
# running on the same server; an earlier run of the same comparison (as_of 2026-12-01, so an
# empty 30-day window) measured 103.7 s before and 8.4 s after, both finding the same failures.
# The whole quality_report before/after did not finish before the deadline (its raw_sales
# suite alone ran over 4 minutes on this database): not measured.
LIGHTBOX_HOME=/tmp/wt21/qhome .venv/bin/python benchmarks/quality.py --url "postgresql://postgres:@/bench_quality_large?host=/tmp/wt21-home/pgdata" > benchmarks/results/quality.jsonl
