"""Least-privilege roles: finance reads the finance marts and nothing else; auditors read
marts and audit trails. Proved against the real PostgreSQL with `set role`."""
import psycopg2
import pytest

from lightbox import marts


@pytest.fixture
def finance_marts_built(db_url):
    marts.dbt("run", "--select", "+settlement_statements", "+licensing_funnel", url=db_url)
    return db_url


def _as_role(conn, role, sql):
    with conn.cursor() as cur:
        cur.execute(f"set role {role}")
        try:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
        finally:
            cur.execute("reset role")


def test_finance_reader_reads_finance_marts_only(finance_marts_built, conn):
    assert _as_role(conn, "finance_reader", "select count(*) from marts.settlement_statements") == [(0,)]
    for forbidden in (
        "select * from raw.users",
        "select * from marts.licensing_funnel",
        "select * from settlement.ledger",
        "insert into marts.settlement_statements (photographer_id) values ('x')",
        "create table marts.sneaky (x int)",
        "create table public.sneaky (x int)",
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            _as_role(conn, "finance_reader", forbidden)


def test_auditor_reads_marts_and_audit_trails_but_writes_nothing(finance_marts_built, conn):
    assert _as_role(conn, "auditor", "select count(*) from marts.licensing_funnel") == [(0,)]
    assert _as_role(conn, "auditor", "select count(*) from replication.audit_log") == [(0,)]
    assert _as_role(conn, "auditor", "select count(*) from settlement.ledger") == [(0,)]
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _as_role(conn, "auditor", "select * from raw.users")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _as_role(conn, "auditor", "delete from replication.audit_log")
