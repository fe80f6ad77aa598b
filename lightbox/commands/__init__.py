"""Sub-commands of the platform itself (db, seed, run, demo, up)."""
