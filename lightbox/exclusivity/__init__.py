"""The exclusivity audit: other stock sites' listings checked against every photo marked
exclusive, so that no one is accused of infringing a photo its photographer also sells
elsewhere.

- ``connectors``: where listings come from (the ``stock_listings`` landing source, a site's
  JSON feed over HTTP), behind one small interface;
- ``audit``: fetch each listing's image safely, hash, match, record violations (the
  photographer's own listing) or infringement cases (someone else's);
- ``holds``: a photo with an open or confirmed violation is on hold: its matches and cases
  are paused, its photographer notified; dismissal lifts the hold;
- ``report``: what an audit checked and found, for a person to read;
- ``commands``: ``lightbox violations list|confirm|dismiss|report``.

Nothing here imports Airflow; ``dags/exclusivity_audit.py`` wires it.
"""
