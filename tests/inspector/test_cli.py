"""``lightbox inspectors add|disable|list`` against the test database."""
from __future__ import annotations

import io
import sys

from lightbox import cli
from lightbox.inspector import accounts


def test_add_sign_in_disable(conn, db_url, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["inspectors", "add", "carol", "--password-stdin"]) == 0
    assert "carol added" in capsys.readouterr().out
    assert accounts.authenticate(conn, "carol", "a long enough password")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["inspectors", "add", "carol", "--password-stdin"]) == 2
    assert cli.main(["inspectors", "list"]) == 0
    assert "carol\tenabled" in capsys.readouterr().out
    assert cli.main(["inspectors", "disable", "carol"]) == 0
    assert not accounts.authenticate(conn, "carol", "a long enough password")
    assert cli.main(["inspectors", "disable", "nobody"]) == 1
    help_text = cli.build_parser().format_help()
    assert "inspectors" in help_text and "inspector" in help_text
