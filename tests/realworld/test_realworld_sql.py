"""Microsoft's own GP queries through the read-only guard, and gpverify's queries against them.

The guard (sqlguard.py) must let a Microsoft SELECT through and refuse every clean-up statement the same KBs
print beside it. gpverify's queries claim to be Microsoft's tests (KB 850289, KB 864411/864413, the upgrade
guide's error script): the tables and predicates are compared with the published text.
"""

from __future__ import annotations

import re

import pytest
import sqlglot
from realworld_corpus import text, uses
from sqlglot import exp

from gpverify.errors import UnsafeQuery
from gpverify.facts.gpsql import load_query
from gpverify.transport.sqlguard import check_read_only

ISSUE = "issue 21"


def refusal(sql: str) -> str | None:
    """Why the guard refuses the text, or None when it lets it through."""
    try:
        check_read_only(sql, source="realworld")
    except UnsafeQuery as exc:
        return str(exc)
    return None


def statements(batch: str) -> list[str]:
    """A T-SQL batch split where SQL Server sees a new statement: before each SELECT/DELETE keyword at the top
    level of these one-line KB batches (they have no subqueries)."""
    return [s.strip() for s in re.split(r"(?i)\s(?=SELECT\b|DELETE\b)", batch) if s.strip()]


def tables(sql: str) -> set[str]:
    """The table names a query reads, without database or schema, upper-cased."""
    return {t.name.upper() for t in sqlglot.parse_one(sql, read="tsql").find_all(exp.Table)}


def guide_queries() -> list[str]:
    """The upgrade guide's error script: its numbered list items, each a query (the page shows the numbers as
    list numbering, not as text to run)."""
    return [q.strip() for q in re.split(r"(?m)^\d+\. ", text("upgrade-error-script.md")) if q.strip()]


@uses(
    "kb864411-select-inactive-dex-lock.sql",
    "kb864413-select-inactive-dex-session.sql",
    "account-framework-select-messages.sql",
    "sample-company-select-segments.sql",
)
@pytest.mark.parametrize(
    "name",
    [
        "kb864411-select-inactive-dex-lock.sql",
        "kb864413-select-inactive-dex-session.sql",
        "account-framework-select-messages.sql",
        "sample-company-select-segments.sql",
    ],
)
def test_microsofts_select_queries_are_allowed(name: str) -> None:
    assert refusal(text(name)) is None


@uses(
    "kb864411-delete-inactive-dex-lock.sql",
    "kb864413-delete-inactive-dex-session.sql",
    "kb850289-delete-stuck-records.sql",
    "kb850289-update-batch-status.sql",
    "kb850662-update-du000020.sql",
    "account-framework-delete-messages.sql",
    "sample-company-drop-database.sql",
)
@pytest.mark.parametrize(
    "name",
    [
        "kb864411-delete-inactive-dex-lock.sql",
        "kb864413-delete-inactive-dex-session.sql",
        "kb850289-delete-stuck-records.sql",
        "kb850289-update-batch-status.sql",
        "kb850662-update-du000020.sql",
        "account-framework-delete-messages.sql",
        "sample-company-drop-database.sql",
    ],
)
def test_microsofts_clean_up_statements_are_refused(name: str) -> None:
    assert refusal(text(name)) is not None


@uses(
    "kb864411-delete-inactive-dex-lock.sql",
    "kb850289-update-batch-status.sql",
    "kb850662-update-du000020.sql",
    "account-framework-delete-messages.sql",
)
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("kb864411-delete-inactive-dex-lock.sql", "DELETE"),
        ("kb850289-update-batch-status.sql", "UPDATE"),
        ("kb850662-update-du000020.sql", "UPDATE"),
        ("account-framework-delete-messages.sql", "DELETE"),
    ],
)
def test_a_refused_write_is_named_for_what_it_is(name: str, kind: str) -> None:
    assert f"({kind} statement)" in (refusal(text(name)) or "")


@uses("kb850289-select-signed-in-tables.sql", "kb850662-select-versions.sql")
@pytest.mark.parametrize(
    ("name", "count"), [("kb850289-select-signed-in-tables.sql", 5), ("kb850662-select-versions.sql", 2)]
)
def test_a_batch_of_selects_is_refused_but_each_of_its_queries_is_allowed(name: str, count: int) -> None:
    parts = statements(text(name))
    assert len(parts) == count
    assert all(refusal(p) is None for p in parts), parts
    assert refusal(text(name)) is not None  # one query per call, by design


@uses("kb850289-select-signed-in-tables.sql", "kb850662-select-versions.sql")
@pytest.mark.parametrize(
    ("name", "count"), [("kb850289-select-signed-in-tables.sql", 5), ("kb850662-select-versions.sql", 2)]
)
def test_a_batch_of_selects_is_refused_for_being_several_statements(name: str, count: int) -> None:
    assert f"contains {count} statements" in (refusal(text(name)) or "")


@uses("upgrade-error-script.md")
def test_the_upgrade_guides_error_script_is_four_allowed_queries() -> None:
    queries = guide_queries()
    assert len(queries) == 4
    assert [refusal(q) for q in queries] == [None] * 4
    assert refusal(text("upgrade-error-script.md")) is not None  # pasted whole, list numbers and all


@uses("upgrade-error-script.md")
def test_gpverifys_failed_conversions_query_is_the_guides() -> None:
    """facts/queries/failed_conversions.sql says it is the guide's query: the same joins and WHERE predicate."""
    ours = sqlglot.parse_one(load_query("failed_conversions"), read="tsql")
    guide = sqlglot.parse_one(guide_queries()[3], read="tsql")

    def normal(node: exp.Expression | None) -> str:
        assert node is not None
        return node.sql(dialect="tsql", normalize=True).upper()

    assert normal(ours.args["where"]) == normal(guide.args["where"])
    assert tables(ours.sql(dialect="tsql")) == tables(guide.sql(dialect="tsql")) == {"DU000030", "DU000010", "SY01500"}
    ours_joins = sorted(normal(j.args.get("on")) for j in ours.args["joins"])
    guide_joins = sorted(normal(j.args.get("on")) for j in guide.args["joins"])
    assert ours_joins == guide_joins


@uses("upgrade-error-script.md", "kb850662-select-versions.sql")
def test_gpverify_reads_the_columns_microsoft_reads() -> None:
    companies = sqlglot.parse_one(guide_queries()[0], read="tsql")
    ours = sqlglot.parse_one(load_query("companies"), read="tsql")
    assert {c.name.upper() for c in companies.find_all(exp.Column)} <= {
        c.name.upper() for c in ours.find_all(exp.Column)
    }
    # KB 850662: versionMajor/versionMinor of DU000020; db_verMajor, db_verMinor, db_verOldMajor, db_verOldMinor.
    du, db = statements(text("kb850662-select-versions.sql"))
    assert tables(du) == tables(load_query("company_versions")) == {"DU000020"}
    assert tables(db) == tables(load_query("database_versions")) == {"DB_UPGRADE"}
    versions = load_query("company_versions") + load_query("database_versions")
    for column in ("versionMajor", "versionMinor", "db_verMajor", "db_verMinor", "db_verOldMajor", "db_verOldMinor"):
        assert re.search(rf"\b{column}\b", versions), column


@uses(
    "kb850289-select-signed-in-tables.sql",
    "kb864411-select-inactive-dex-lock.sql",
    "kb864413-select-inactive-dex-session.sql",
)
def test_gp_pre_008_reads_the_five_tables_of_microsofts_signed_out_test() -> None:
    microsoft = set().union(*(tables(s) for s in statements(text("kb850289-select-signed-in-tables.sql"))))
    ours = set().union(
        *(
            tables(load_query(q))
            for q in ("sign_in_activity", "batch_activity", "resource_activity", "dex_locks", "dex_sessions")
        )
    )
    assert microsoft == ours == {"ACTIVITY", "SY00800", "SY00801", "DEX_LOCK", "DEX_SESSION"}
    # The KBs join DEX_LOCK/DEX_SESSION.Session_ID to ACTIVITY.SQLSESID: the columns gpverify reads to tell stale rows.
    for name in ("kb864411-select-inactive-dex-lock.sql", "kb864413-select-inactive-dex-session.sql"):
        columns = {c.name.upper() for c in sqlglot.parse_one(text(name), read="tsql").find_all(exp.Column)}
        assert columns == {"SESSION_ID", "SQLSESID"}
    assert re.search(r"\bsession_id\b", load_query("dex_sessions")) and "SQLSESID" in load_query("sign_in_activity")


@uses("blog-du000010-codename-queries.txt")
def test_gp_supports_codename_queries_are_each_one_read_only_select() -> None:
    lines = text("blog-du000010-codename-queries.txt").splitlines()
    queries = [line.split(">>", 1)[1].strip() for line in lines]
    assert len(queries) == 5
    # The guard judges shape, not syntax (sqlguard.py): the GP 2015 R2 line's typographic quotes would not run on
    # SQL Server, but the line is still one read-only SELECT.
    assert [refusal(q) for q in queries] == [None] * 5
    assert all(tables(q) == {"DU000010"} for q in queries if "\u2018" not in q)
