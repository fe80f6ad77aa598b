.venv/bin/python benchmarks/aiscan.py --scale medium --seed 7 --score-limit 1500 > benchmarks/results/aiscan.jsonl
# defaults: --gen-train 1800 --gen-test 700 --gen-seed 11 (generated set cached under $TMPDIR/lightbox-aiscan-cache)
# 2-core machine shared with six other engineers' work: load average 8-21 during the run
# (wall-clock figures are inflated; the CPU-time figures are this process's time.process_time)
