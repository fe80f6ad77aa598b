LIGHTBOX_HOME=/tmp/lbsb .venv/bin/python benchmarks/settlement.py --lines 1000000 --baseline-lines 10000
