"""Accept only T-SQL that is exactly one read-only query built from allowed constructs, before it reaches a server."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, cast

from gpverify.errors import UnsafeQuery

if TYPE_CHECKING:
    from sqlglot import exp

# sqlglot is imported by the first query checked, not with this module: most commands (and every pytest run of
# another suite, where the plugin is loaded) never check a query, and sqlglot takes a tenth of a second to import.


class _Refused(Exception):
    """Why a query is refused; check_read_only adds the name of the query."""


@cache
def _statement_kinds() -> dict[type[exp.Expression], str]:
    # sqlglot is a structural guard, not a syntax validator (research E.1): it finds statement kinds,
    # SELECT ... INTO and function calls reliably, but accepts some invalid T-SQL that SQL Server then rejects.
    from sqlglot import exp

    return {
        exp.Insert: "INSERT",
        exp.Update: "UPDATE",
        exp.Delete: "DELETE",
        exp.Merge: "MERGE",
        exp.Execute: "EXEC",
        exp.Command: "COMMAND",
        exp.Create: "CREATE",
        exp.Drop: "DROP",
        exp.Alter: "ALTER",
        exp.TruncateTable: "TRUNCATE",
    }


# Each reads from (and can write to) another server or a file, outside the one database being audited.
_REMOTE_FUNCTIONS = frozenset({"OPENROWSET", "OPENQUERY", "OPENDATASOURCE"})
# T-SQL identifiers that need no quoting, 1-128 characters; brackets are added by quote_identifier.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$#@]{0,127}")

# The allow-list: every node of an accepted query is one of these (sqlglot 30 expression classes). Anything else,
# including constructs sqlglot adds later, is refused; adding a construct here is a reviewed decision.
_ALLOWED_NODES: frozenset[str] = frozenset(
    {
        # query shape
        "Select",
        "Union",
        "Intersect",
        "Except",
        "Subquery",
        "With",
        "CTE",
        "From",
        "Join",
        "Where",
        "Group",
        "Having",
        "Order",
        "Ordered",
        "Limit",
        "Offset",
        "Fetch",
        "Distinct",
        "TableAlias",
        "Alias",
        "Column",
        "Table",
        "Identifier",
        "Star",
        "Literal",
        "National",
        "HexString",
        "Null",
        "Boolean",
        "Placeholder",
        "Parameter",
        "Paren",
        "Tuple",
        "Window",
        "WindowSpec",
        "DataType",
        "DataTypeParam",
        "Dot",
        # predicates and arithmetic
        "And",
        "Or",
        "Not",
        "EQ",
        "NEQ",
        "GT",
        "GTE",
        "LT",
        "LTE",
        "Is",
        "In",
        "Between",
        "Like",
        "Exists",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Mod",
        "Neg",
        "DPipe",
        "Case",
        "If",
        "Coalesce",
        "Nullif",
        "Cast",
        "TryCast",
        # pure functions
        "Count",
        "Sum",
        "Min",
        "Max",
        "Avg",
        "Trim",
        "Upper",
        "Lower",
        "Length",
        "Substring",
        "Left",
        "Right",
        "CurrentTimestamp",
        "CurrentDate",
        "DateAdd",
        "DateDiff",
        "Round",
        "Abs",
        "Floor",
        "Ceil",
        "Replace",
        "StrPosition",
        "RowNumber",
        "Rank",
        "DenseRank",
        "Concat",
        "TimeToStr",
        "Extract",
        "Var",
        "Anonymous",  # by name, below
    }
)
# Functions sqlglot has no class for, by name: all read metadata or compute, none changes state.
_ALLOWED_FUNCTIONS = frozenset(
    {
        "DB_NAME",
        "DB_ID",
        "SERVERPROPERTY",
        "OBJECT_ID",
        "OBJECT_NAME",
        "SCHEMA_NAME",
        "DATALENGTH",
        "ISNUMERIC",
        "DATEPART",
        "DATENAME",
        "EOMONTH",
        "SUSER_SNAME",
        "HOST_NAME",
        "APP_NAME",
        "STR",
        "LTRIM",
        "RTRIM",
        "CHARINDEX",
        "PATINDEX",
        "ISNULL",
        "IIF",
        "FORMAT",
        "SPACE",
        "REPLICATE",
        "REVERSE",
        "STUFF",
        "SYSDATETIME",
        "GETUTCDATE",
        "GETDATE",
        "HAS_PERMS_BY_NAME",
    }
)
# Microsoft's reserved T-SQL keywords (learn.microsoft.com/en-us/sql/t-sql/language-elements/reserved-keywords-
# transact-sql). SQL Server never reads one as a name: `SELECT 1 SHUTDOWN` is SELECT 1 then SHUTDOWN, although
# sqlglot reads SHUTDOWN as an alias. So an unquoted name that is one of these is refused.
RESERVED = frozenset(
    """ADD ALL ALTER AND ANY AS ASC AUTHORIZATION BACKUP BEGIN BETWEEN BREAK BROWSE BULK BY CASCADE CASE CHECK
CHECKPOINT CLOSE CLUSTERED COALESCE COLLATE COLUMN COMMIT COMPUTE CONSTRAINT CONTAINS CONTAINSTABLE CONTINUE CONVERT
CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE DBCC DEALLOCATE DECLARE
DEFAULT DELETE DENY DESC DISK DISTINCT DISTRIBUTED DOUBLE DROP DUMP ELSE END ERRLVL ESCAPE EXCEPT EXEC EXECUTE
EXISTS EXIT EXTERNAL FETCH FILE FILLFACTOR FOR FOREIGN FREETEXT FREETEXTTABLE FROM FULL FUNCTION GOTO GRANT GROUP
HAVING HOLDLOCK IDENTITY IDENTITY_INSERT IDENTITYCOL IF IN INDEX INNER INSERT INTERSECT INTO IS JOIN KEY KILL LEFT
LIKE LINENO LOAD MERGE NATIONAL NOCHECK NONCLUSTERED NOT NULL NULLIF OF OFF OFFSETS ON OPEN OPENDATASOURCE
OPENQUERY OPENROWSET OPENXML OPTION OR ORDER OUTER OVER PERCENT PIVOT PLAN PRECISION PRIMARY PRINT PROC PROCEDURE
PUBLIC RAISERROR READ READTEXT RECONFIGURE REFERENCES REPLICATION RESTORE RESTRICT RETURN REVERT REVOKE RIGHT
ROLLBACK ROWCOUNT ROWGUIDCOL RULE SAVE SCHEMA SECURITYAUDIT SELECT SEMANTICKEYPHRASETABLE
SEMANTICSIMILARITYDETAILSTABLE SEMANTICSIMILARITYTABLE SESSION_USER SET SETUSER SHUTDOWN SOME STATISTICS
SYSTEM_USER TABLE TABLESAMPLE TEXTSIZE THEN TO TOP TRAN TRANSACTION TRIGGER TRUNCATE TRY_CONVERT TSEQUAL UNION
UNIQUE UNPIVOT UPDATE UPDATETEXT USE USER VALUES VARYING VIEW WAITFOR WHEN WHERE WHILE WITH WITHIN WRITETEXT
""".split()  # noqa: SIM905 - the list as Microsoft prints it
)


def check_read_only(sql: str, *, source: str) -> None:
    """Raise UnsafeQuery (naming source) unless sql is exactly one read-only T-SQL query."""
    problem = _verdict(sql)
    if problem is not None:
        raise UnsafeQuery(source, problem)


# The verdict depends on the text alone, so each distinct query is parsed once per process: the shipped queries
# are constants that every gate of a run (and every host of a check) sends again. Bounded, so a long-running
# process that builds queries from data cannot grow without end.
@lru_cache(maxsize=1024)
def _verdict(sql: str) -> str | None:
    """None for exactly one read-only query; otherwise why it is refused."""
    try:
        _check(sql)
    except _Refused as exc:
        return str(exc)
    return None


# Parentheses a query may nest: the shipped queries nest 3 deep; sqlglot's parser and walk recurse once or more per
# level, so a few thousand levels would exhaust Python's stack (a RecursionError, not a refusal).
MAX_NESTING = 32


def _nesting(sql: str) -> int:
    """The deepest nesting of parentheses outside string literals, quoted names and comments."""
    depth = deepest = i = 0
    closers = {"'": "'", "[": "]", '"': '"', "--": "\n", "/*": "*/"}
    while i < len(sql):
        opener = sql[i : i + 2] if sql[i : i + 2] in ("--", "/*") else sql[i]
        if opener in closers:
            end = sql.find(closers[opener], i + len(opener))
            while end != -1 and opener in ("'", "[", '"') and sql[end + 1 : end + 2] == closers[opener]:
                end = sql.find(closers[opener], end + 2)  # '' ]] "" escape the closer inside
            i = len(sql) if end == -1 else end + len(closers[opener])
            continue
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        deepest = max(deepest, depth)
        i += 1
    return deepest


def _check(sql: str) -> None:
    if _nesting(sql) > MAX_NESTING:
        raise _Refused(f"nests parentheses more than {MAX_NESTING} deep (a read-only query of the farm needs a few)")
    try:
        _check_parsed(sql)
    except RecursionError:  # nesting that is not parentheses (a long chain of operators): refused, not a traceback
        raise _Refused("nests too deeply to be checked") from None


def _check_parsed(sql: str) -> None:
    from sqlglot import exp

    statements = _parse(sql)
    if not statements:
        raise _Refused("contains no statement")
    if len(statements) > 1:
        raise _Refused(f"contains {len(statements)} statements; only one query is allowed")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise _Refused(f"is not a read-only query ({_kind(statement, sql)} statement)")
    _check_nodes(statement)


def quote_identifier(name: str) -> str:
    """Bracket-quote a table or column name taken from profile data, after checking it is a plain identifier.

    Identifiers cannot be bound as parameters, so this is the only way such a name enters SQL text.
    """
    # fullmatch, not re.match with ^...$: "$" also matches before a trailing newline.
    if not _IDENTIFIER.fullmatch(name):
        raise UnsafeQuery(
            "identifier",
            f"{name!r} is not a plain T-SQL identifier (a letter or _, then up to 127 letters, digits or _ $ # @)",
        )
    return f"[{name}]"


def _parse(sql: str) -> list[exp.Expression]:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        parsed = sqlglot.parse(sql, read="tsql")
    except (ParseError, TokenError) as exc:  # TokenError: e.g. an unterminated string
        errors = getattr(exc, "errors", None)
        first = errors[0] if errors else {}
        split = _statement_break(sql, first)
        if split is not None:  # T-SQL needs no semicolon between statements: count them as SQL Server would
            return _parse(sql[:split]) + _parse(sql[split:])
        where = f" at line {first['line']}, column {first['col']}" if "line" in first else ""
        problem = _readable(str(first.get("description", exc)))
        raise _Refused(f"does not parse as T-SQL: {problem}{where}") from None
    # None stands for an empty statement (";;"); sqlglot 30 types its nodes as Expr, a base of Expression.
    return [cast("exp.Expression", statement) for statement in parsed if statement is not None]


# Keywords that begin a T-SQL statement: where sqlglot stops at one of them after a complete statement, SQL Server
# starts the next one (Microsoft's KB batches put several SELECTs on one line without semicolons, KB 850289). Only
# used to count statements for the refusal: a text split here has two or more, which is refused whatever they are.
_STATEMENT_STARTS = {
    "SELECT",
    "WITH",
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "CREATE",
    "ALTER",
    "DROP",
    "EXEC",
    "EXECUTE",
    "DECLARE",
    "SET",
    "USE",
    "GRANT",
    "REVOKE",
    "DENY",
    "TRUNCATE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
}


def _statement_break(sql: str, error: dict[str, Any]) -> int | None:
    """The offset of the statement keyword sqlglot stopped at, when what comes before it is a statement."""
    word = str(error.get("highlight") or "")
    line, col = error.get("line"), error.get("col")
    if word.upper() not in _STATEMENT_STARTS or not isinstance(line, int) or not isinstance(col, int):
        return None
    lines = sql.split("\n")
    if not 1 <= line <= len(lines):
        return None
    offset = sum(len(text) + 1 for text in lines[: line - 1]) + col - len(word)
    if offset <= 0 or sql[offset : offset + len(word)].upper() != word.upper() or not sql[:offset].strip():
        return None
    return offset


def _readable(description: str) -> str:
    # sqlglot puts reprs of its internals in some messages; keep what a query author can act on.
    sentinel = r"<Token token_type: TokenType\.SENTINEL\b[^>]*>"
    description = re.sub(sentinel, "the end of the text", description)
    description = re.sub(r"<Token token_type: [^,]*, text: ([^,]*),[^>]*>", r"'\1'", description)
    return re.sub(r"<class 'sqlglot\.[\w.]*\.(\w+)'>", lambda m: m.group(1).upper(), description)


def _kind(statement: object, sql: str) -> str:
    for cls, kind in _statement_kinds().items():
        if isinstance(statement, cls):
            return kind
    # Statements sqlglot has no class for come back as odd nodes (SHUTDOWN parses as a Column, DBCC as an
    # Alias): name them by their first word, which is what the author wrote.
    return sql.split(None, 1)[0].upper() if sql.split() else type(statement).__name__.upper()


def _check_nodes(statement: exp.Expression) -> None:
    from sqlglot import exp

    for node in statement.walk():
        if isinstance(node, exp.Into):
            raise _Refused("uses SELECT ... INTO, which creates a table")
        if isinstance(node, tuple(_statement_kinds())):
            raise _Refused(f"contains a {_kind(node, '')} statement")
        if isinstance(node, exp.NextValueFor):
            raise _Refused("uses NEXT VALUE FOR, which advances a sequence")
        if isinstance(node, exp.Func) and _function_name(node) in _REMOTE_FUNCTIONS:
            raise _Refused(f"calls {_function_name(node)}, which reaches outside the database")
    for node in statement.walk():
        _check_allowed(cast("exp.Expression", node))


def _check_allowed(node: exp.Expression) -> None:
    """Refuse a node that is not on the allow-list, a reserved word read as a name, a hint or a linked server."""
    from sqlglot import exp

    kind = type(node).__name__
    if kind not in _ALLOWED_NODES:
        label = _function_name(node) if isinstance(node, exp.Func) else kind
        raise _Refused(f"uses {label}, which is not among the constructs a read-only query may use")
    if isinstance(node, exp.Anonymous) and node.name.upper() not in _ALLOWED_FUNCTIONS:
        raise _Refused(f"calls {node.name.upper()}, which is not among the functions a read-only query may call")
    if isinstance(node, exp.Identifier) and not node.quoted and node.name.upper() in RESERVED:
        raise _Refused(
            f"uses the reserved word {node.name.upper()} as a name (SQL Server would run it "
            "as a statement); quote it as [name] if it is one"
        )
    if isinstance(node, exp.Var) and not isinstance(
        node.parent,
        (exp.DataType, exp.DataTypeParam, exp.Extract, exp.DateAdd, exp.DateDiff, exp.TimeToStr, exp.Anonymous),
    ):
        raise _Refused(
            f"uses {node.name.upper()} where a value or name belongs (a hint or a statement keyword, not a read)"
        )
    if isinstance(node, exp.Table) and _name_parts(node) > 3:
        raise _Refused(f"names {node.sql(dialect='tsql')} with four parts: a linked server, outside the database")
    if isinstance(node, exp.Table) and node.args.get("catalog") == "":
        raise _Refused(f"names {node.sql(dialect='tsql')} with its first part left out, which T-SQL does not allow")


def _name_parts(table: exp.Table) -> int:
    """The parts of a table's name, the omitted ones counted: `srv...t` and `[LNK]..[dbo].[t]` are four-part
    names (a linked server) as much as `srv.db.dbo.t` is; `db..t` is three (the default schema left out).
    sqlglot keeps an omitted part as an empty string and a fourth part and beyond as a Dot."""
    from sqlglot import exp

    def leaves(node: object) -> int:
        return leaves(node.this) + leaves(node.expression) if isinstance(node, exp.Dot) else 1

    return sum(table.args.get(part) is not None for part in ("catalog", "db")) + leaves(table.this)


def _function_name(node: exp.Func) -> str:
    from sqlglot import exp

    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()
