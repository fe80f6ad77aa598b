"""The inspector app: the licensing review queue for people (pages) and tools (JSON API).
``app.create_app()`` builds it, ``queue`` holds the claim/decide/release SQL, ``accounts``
the inspectors and their sessions, ``commands`` the ``lightbox inspectors|inspector`` CLI."""
