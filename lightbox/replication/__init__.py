"""Regional replication: regional mirrors hold exactly the photos whose owners consented to
that region, deletions included, and every change is audited.

- ``consent``: the consent model (pure functions over consent events; no database).
- ``store``: a region's object store through fsspec (``file://``, ``s3://``…).
- ``sync``: one region's sync run: desired vs inventory vs the store's real listing,
  applied in a crash-safe order (see the module docstring for the invariants).
- ``whereis``: the answer to "where are my photos?" (``lightbox where-is``).
"""
