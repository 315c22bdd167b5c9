"""The read-only T-SQL guard and identifier quoting: what passes, what is refused, and the exact reason."""

from __future__ import annotations

import re

import pytest

from gpverify.errors import UnsafeQuery
from gpverify.transport.sqlguard import check_read_only, quote_identifier

ALLOWED = {
    "select": "SELECT RTRIM(USERID) AS USERID, RTRIM(CMPNYNAM) AS CMPNYNAM FROM ACTIVITY",
    "bound-parameter": "SELECT TOP 1 db_verMajor FROM DB_Upgrade WHERE db_name = ?",
    "cte": "WITH u AS (SELECT USERID FROM ACTIVITY) SELECT COUNT(*) AS n FROM u",
    "union-all": "SELECT USERID FROM ACTIVITY UNION ALL SELECT USERID FROM SY00800",
    "top-parenthesised": "SELECT TOP (1) db_verMajor FROM DYNAMICS..DB_Upgrade ORDER BY PRODID",
    "quoted-reserved-word": "SELECT [USER] AS u FROM ACTIVITY",
    "national-and-hex": "SELECT USERID FROM ACTIVITY WHERE USERID = N'sa' OR SECOPTS = 0x01",
    "functions": "SELECT DB_NAME() AS d, COUNT(*) AS n, MAX(LEN(USERID)) AS m FROM ACTIVITY WHERE USERID LIKE 's%'",
    "case-cast": "SELECT CASE WHEN PRODID = 0 THEN 'GP' ELSE CAST(PRODID AS VARCHAR(10)) END AS p FROM DB_Upgrade",
    "trailing-semicolon": "SELECT 1 AS one;",
    "keyword-in-string": "SELECT 'OPENROWSET; DROP TABLE x' AS text",
    "comment-with-semicolon": "-- users; signed in\nSELECT USERID FROM ACTIVITY",
}

REFUSED = {
    "stacked-drop": (
        "SELECT COUNT(*) FROM ACTIVITY; DROP TABLE ACTIVITY",
        "contains 2 statements; only one query is allowed",
    ),
    "select-into": ("SELECT * INTO #tmp FROM ACTIVITY", "uses SELECT ... INTO, which creates a table"),
    "into-in-subquery": (
        "SELECT * FROM (SELECT * INTO #x FROM ACTIVITY) q",
        "uses SELECT ... INTO, which creates a table",
    ),
    "delete": ("DELETE FROM ACTIVITY WHERE USERID = 'sa'", "is not a read-only query (DELETE statement)"),
    "update": ("UPDATE DB_Upgrade SET db_status = 0", "is not a read-only query (UPDATE statement)"),
    "insert-select": ("INSERT INTO ACTIVITY SELECT * FROM x", "is not a read-only query (INSERT statement)"),
    "exec": ("EXEC sp_who2", "is not a read-only query (EXEC statement)"),
    "execute": ("EXECUTE xp_cmdshell 'dir'", "is not a read-only query (EXEC statement)"),
    "truncate": ("TRUNCATE TABLE ACTIVITY", "is not a read-only query (TRUNCATE statement)"),
    "grant": ("GRANT SELECT ON ACTIVITY TO public", "is not a read-only query (GRANT statement)"),
    "set": ("SET NOCOUNT ON", "is not a read-only query (SET statement)"),
    "shutdown": ("SHUTDOWN", "is not a read-only query (SHUTDOWN statement)"),
    "openrowset": (
        "SELECT * FROM OPENROWSET('SQLNCLI', 'Server=x;Trusted_Connection=yes;', 'SELECT 1') AS a",
        "calls OPENROWSET, which reaches outside the database",
    ),
    "openquery": ("SELECT * FROM OPENQUERY(LNK, 'SELECT 1')", "calls OPENQUERY, which reaches outside the database"),
    "opendatasource": (
        "SELECT * FROM OPENDATASOURCE('SQLNCLI', 'Data Source=x').db.dbo.t",
        "calls OPENDATASOURCE, which reaches outside the database",
    ),
    "next-value-for": ("SELECT NEXT VALUE FOR dbo.seq", "uses NEXT VALUE FOR, which advances a sequence"),
    "parse-error": (
        "SELEC USERID FROM ACTIVITY",
        "does not parse as T-SQL: Invalid expression / Unexpected token at line 1, column 17",
    ),
    "unfinished": (
        "SELECT TOP 1 * FROM",
        ("does not parse as T-SQL: Expected table name but got the end of the text at line 1, column 19"),
    ),
    "empty": ("  ;  ", "contains no statement"),
    # Allow-list (issue 14): reserved words sqlglot reads as aliases, hints, linked servers, XML/JSON rowsets.
    **{
        f"alias-{w.lower()}": (
            f"SELECT USERID {w} FROM ACTIVITY",
            (
                f"uses the reserved word {w} as a name (SQL Server "
                "would run it as a statement); quote it as [name] if it is one"
            ),
        )
        for w in ("SHUTDOWN", "CHECKPOINT", "RECONFIGURE", "COMMIT", "REVERT", "SETUSER", "RETURN")
    },
    "table-alias-shutdown": (
        "SELECT * FROM ACTIVITY SHUTDOWN",
        (
            "uses the reserved word SHUTDOWN as a name (SQL "
            "Server would run it as a statement); quote it as [name] if it is one"
        ),
    ),
    "nolock": (
        "SELECT session_id FROM tempdb..DEX_LOCK WITH (NOLOCK)",
        "uses WithTableHint, which is not among the constructs a read-only query may use",
    ),
    "updlock": (
        "SELECT session_id FROM DEX_LOCK WITH (UPDLOCK, HOLDLOCK)",
        "uses WithTableHint, which is not among the constructs a read-only query may use",
    ),
    "four-part": (
        "SELECT * FROM LNK.master.dbo.sysdatabases",
        "names LNK.master.dbo.sysdatabases with four parts: a linked server, outside the database",
    ),
    "openxml": ("SELECT * FROM OPENXML(@h, '/r', 1)", None),
    "openjson": ("SELECT * FROM OPENJSON('[1]')", None),
    "unknown-function": (
        "SELECT xp_cmdshell('dir') AS x",
        ("calls XP_CMDSHELL, which is not among the functions a read-only query may call"),
    ),
}


@pytest.mark.parametrize("sql", ALLOWED.values(), ids=ALLOWED.keys())
def test_read_only_queries_pass(sql: str) -> None:
    check_read_only(sql, source="q.sql")


@pytest.mark.parametrize(("sql", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_anything_else_is_refused_with_its_reason(sql: str, reason: str) -> None:
    with pytest.raises(UnsafeQuery) as exc:
        check_read_only(sql, source="q.sql")
    assert exc.value.source == "q.sql"
    if reason is not None:  # None: refused, whichever rule names it first
        assert exc.value.reason == reason
        assert str(exc.value) == f"q.sql: {reason}"


@pytest.mark.parametrize("name", ["ACTIVITY", "SessionHosts", "_x", "a$b#c@1", "x" * 128])
def test_plain_identifiers_are_bracket_quoted(name: str) -> None:
    assert quote_identifier(name) == f"[{name}]"


NOT_IDENTIFIERS = ["", "1abc", "dbo.ACTIVITY", "x]; DROP TABLE y --", "ACTIVITY\n", "#tmp", "x" * 129, "Session Hosts"]


@pytest.mark.parametrize("name", NOT_IDENTIFIERS)
def test_other_identifiers_are_refused(name: str) -> None:
    with pytest.raises(UnsafeQuery) as exc:
        quote_identifier(name)
    assert str(exc.value) == (
        f"identifier: {name!r} is not a plain T-SQL identifier "
        "(a letter or _, then up to 127 letters, digits or _ $ # @)"
    )


def _tsql_keywords() -> list[str]:
    from sqlglot.dialects.tsql import TSQL

    return sorted({k for k in TSQL.Tokenizer.KEYWORDS if re.fullmatch(r"[A-Z_]+", k)})


def test_no_tsql_keyword_passes_as_a_bare_alias() -> None:
    """Every word sqlglot's T-SQL tokenizer knows, and every reserved word, written after a SELECT: refused or
    read as something other than a name (never a silent alias SQL Server would run as a statement)."""
    from gpverify.transport.sqlguard import RESERVED

    accepted = []
    for word in sorted(set(_tsql_keywords()) | RESERVED):
        try:
            check_read_only(f"SELECT 1 {word}", source="q.sql")
        except UnsafeQuery:
            continue
        accepted.append(word)
    # sqlglot reads these three as parts of the SELECT itself (a dangling AS, FETCH or IN), which SQL Server then
    # refuses as a syntax error: not a statement run after the query.
    assert set(accepted) & RESERVED <= {"AS", "FETCH", "IN"}, accepted


def test_shipped_queries_pass_the_allow_list() -> None:
    from importlib import resources

    for path in resources.files("gpverify.facts").joinpath("queries").iterdir():
        sql = re.sub(r"\{(\w+)\}", r"[\1]", path.read_text(encoding="utf-8"))
        check_read_only(sql, source=path.name)
