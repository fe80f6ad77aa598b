# 100,000 photos x 2 regions, stores and landing on tmpfs (/dev/shm): this machine's disk
# creates small files at ~1,000/s, which would put the full scale far over the 5-minute budget
.venv/bin/python benchmarks/replication.py --workdir /dev/shm
# the same on the ext4 disk, at 10,000 photos (100 revocations) to show the disk's effect
.venv/bin/python benchmarks/replication.py --photos 10000 --revocations 100 --baseline-sample 2000 --workdir /tmp
