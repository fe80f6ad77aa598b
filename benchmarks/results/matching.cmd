.venv/bin/python benchmarks/matching.py --distractors 10000 --reps 3 --scale-index 10000000 --scale-queries 10000 --brute-queries 100 > benchmarks/results/matching.jsonl
