.venv/bin/python benchmarks/aiscan.py --scale medium --seed 7 --score-limit 1500 > benchmarks/results/aiscan.jsonl
