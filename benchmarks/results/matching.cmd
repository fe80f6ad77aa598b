# 2026-11-30, 2-core machine, nothing else running (load average 1.5 at the scale step); about 3 minutes
.venv/bin/python benchmarks/matching.py --distractors 10000 --reps 5 --scale-index 10000000 --scale-queries 10000 --brute-queries 100 > benchmarks/results/matching.jsonl
