"""Refuse any T-SQL that is not exactly one read-only query, before it reaches a server."""

from __future__ import annotations

import re
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from gpverify.errors import UnsafeQuery

# sqlglot is a structural guard, not a syntax validator (research E.1): it finds statement kinds,
# SELECT ... INTO and function calls reliably, but accepts some invalid T-SQL that SQL Server then rejects.
_STATEMENT_KINDS: dict[type[exp.Expression], str] = {
    exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE", exp.Merge: "MERGE",
    exp.Execute: "EXEC", exp.Command: "COMMAND", exp.Create: "CREATE", exp.Drop: "DROP",
    exp.Alter: "ALTER", exp.TruncateTable: "TRUNCATE",
}
# Each reads from (and can write to) another server or a file, outside the one database being audited.
_REMOTE_FUNCTIONS = frozenset({"OPENROWSET", "OPENQUERY", "OPENDATASOURCE"})
# T-SQL identifiers that need no quoting, 1-128 characters; brackets are added by quote_identifier.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$#@]{0,127}")


def check_read_only(sql: str, *, source: str) -> None:
    """Raise UnsafeQuery (naming source) unless sql is exactly one read-only T-SQL query."""
    statements = _parse(sql, source)
    if not statements:
        raise UnsafeQuery(source, "contains no statement")
    if len(statements) > 1:
        raise UnsafeQuery(source, f"contains {len(statements)} statements; only one query is allowed")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise UnsafeQuery(source, f"is not a read-only query ({_kind(statement, sql)} statement)")
    _check_nodes(statement, source)


def quote_identifier(name: str) -> str:
    """Bracket-quote a table or column name taken from profile data, after checking it is a plain identifier.

    Identifiers cannot be bound as parameters, so this is the only way such a name enters SQL text.
    """
    # fullmatch, not re.match with ^...$: "$" also matches before a trailing newline.
    if not _IDENTIFIER.fullmatch(name):
        raise UnsafeQuery("identifier", f"{name!r} is not a plain T-SQL identifier "
                                        "(a letter or _, then up to 127 letters, digits or _ $ # @)")
    return f"[{name}]"


def _parse(sql: str, source: str) -> list[exp.Expression]:
    try:
        parsed = sqlglot.parse(sql, read="tsql")
    except (ParseError, TokenError) as exc:  # TokenError: e.g. an unterminated string
        errors = getattr(exc, "errors", None)
        first = errors[0] if errors else {}
        where = f" at line {first['line']}, column {first['col']}" if "line" in first else ""
        problem = _readable(str(first.get("description", exc)))
        raise UnsafeQuery(source, f"does not parse as T-SQL: {problem}{where}") from None
    # None stands for an empty statement (";;"); sqlglot 30 types its nodes as Expr, a base of Expression.
    return [cast(exp.Expression, statement) for statement in parsed if statement is not None]


def _readable(description: str) -> str:
    # sqlglot puts reprs of its internals in some messages; keep what a query author can act on.
    sentinel = r"<Token token_type: TokenType\.SENTINEL\b[^>]*>"
    description = re.sub(sentinel, "the end of the text", description)
    description = re.sub(r"<Token token_type: [^,]*, text: ([^,]*),[^>]*>", r"'\1'", description)
    return re.sub(r"<class 'sqlglot\.[\w.]*\.(\w+)'>", lambda m: m.group(1).upper(), description)


def _kind(statement: object, sql: str) -> str:
    for cls, kind in _STATEMENT_KINDS.items():
        if isinstance(statement, cls):
            return kind
    # Statements sqlglot has no class for come back as odd nodes (SHUTDOWN parses as a Column, DBCC as an
    # Alias): name them by their first word, which is what the author wrote.
    return sql.split(None, 1)[0].upper() if sql.split() else type(statement).__name__.upper()


def _check_nodes(statement: exp.Expression, source: str) -> None:
    for node in statement.walk():
        if isinstance(node, exp.Into):
            raise UnsafeQuery(source, "uses SELECT ... INTO, which creates a table")
        if isinstance(node, tuple(_STATEMENT_KINDS)):
            raise UnsafeQuery(source, f"contains a {_kind(node, '')} statement")
        if isinstance(node, exp.NextValueFor):
            raise UnsafeQuery(source, "uses NEXT VALUE FOR, which advances a sequence")
        if isinstance(node, exp.Func) and _function_name(node) in _REMOTE_FUNCTIONS:
            raise UnsafeQuery(source, f"calls {_function_name(node)}, which reaches outside the database")


def _function_name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()
