"""The lab's one T-SQL translation: queries as production sends them, rewritten for its SQLite files (sqlglot)."""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

from gpverify.lab.sql import DATABASE_CATALOG_SCHEMA


@lru_cache(maxsize=512)
def transpile(sql: str) -> str:
    """T-SQL as production sends it, rewritten for the lab's SQLite files (the only T-SQL translation).

    Beyond sqlglot's own tsql -> sqlite mapping (TOP -> LIMIT, WITH (NOLOCK) dropped, ISNULL -> COALESCE):
    tempdb..T and tempdb.dbo.T -> tempdb.T; every other database/schema prefix is dropped, so a cross-database
    name reads the connected database; N'..' -> '..'; LEN(x) -> LENGTH(RTRIM(x)) (LEN ignores trailing
    blanks); comments dropped (the SQLite driver refuses a ';' inside a comment as a second statement).
    """
    return sqlglot.parse_one(sql, read="tsql").transform(_to_lab).sql(dialect="sqlite", comments=False)


def _to_lab(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Table) and node.db.upper() == "INFORMATION_SCHEMA" and node.name.upper() in LISTINGS:
        return _information_schema(node)
    if isinstance(node, exp.Table) and node.name.lower() in DATABASE_CATALOG_SCHEMA:
        return exp.Table(this=exp.to_identifier(node.name.lower()), alias=node.args.get("alias"))  # per database
    if isinstance(node, exp.Anonymous) and node.name.upper() == "SERVERPROPERTY" and node.expressions:
        return _server_property(node.expressions[0])
    if isinstance(node, exp.Anonymous) and node.name.upper() == "HAS_PERMS_BY_NAME" and len(node.expressions) == 3:
        return _has_permission(node.expressions[2])
    if isinstance(node, (exp.Table, exp.Column)) and (node.args.get("catalog") or node.args.get("db")):
        return _lab_schema(node)
    if isinstance(node, exp.National):
        return exp.Literal.string(node.this)
    if isinstance(node, exp.Length):  # sqlglot reads T-SQL LEN(x) as LENGTH(CAST(x AS TEXT))
        inner = (node.this.this if isinstance(node.this, exp.Cast) else node.this).transform(_to_lab)
        return exp.Anonymous(this="LENGTH", expressions=[exp.Anonymous(this="RTRIM", expressions=[inner])])
    return node


def _lab_schema(node: exp.Expression) -> exp.Expression:
    catalog, db = node.args.get("catalog"), node.args.get("db")
    kept = next(
        (
            x.name.lower()
            for x in (catalog, db)
            if isinstance(x, exp.Identifier) and x.name.lower() in ("tempdb", "sys")
        ),
        None,
    )  # the schemas the lab attaches
    node = node.copy()
    node.set("catalog", None)
    node.set("db", exp.to_identifier(kept) if kept else None)
    return node


# SQLite has no INFORMATION_SCHEMA: its TABLES and COLUMNS views read sqlite_master (for `gpverify discover`).
LISTINGS = {
    "TABLES": "SELECT 'dbo' AS TABLE_SCHEMA, name AS TABLE_NAME, 'BASE TABLE' AS TABLE_TYPE FROM sqlite_master "
    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'database_principals'",
    "COLUMNS": "SELECT 'dbo' AS TABLE_SCHEMA, m.name AS TABLE_NAME, c.name AS COLUMN_NAME, c.type AS DATA_TYPE "
    "FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c "
    "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'database_principals'",
}


def _information_schema(node: exp.Table) -> exp.Expression:
    listing = sqlglot.parse_one(LISTINGS[node.name.upper()], read="sqlite", into=exp.Select)
    return listing.subquery(node.alias or node.name.upper())


def _has_permission(permission: exp.Expression) -> exp.Expression:
    """HAS_PERMS_BY_NAME(NULL, NULL, 'P') (a server permission) -> 1 when the lab grants P, else 0."""
    query = (
        exp.select("COUNT(*)")
        .from_("sys.lab_server_permissions")
        .where(exp.column("permission_name").eq(permission.copy()))
    )
    return query.subquery()


def _server_property(name: exp.Expression) -> exp.Expression:
    """SERVERPROPERTY('X') -> the lab's sys.server_properties row X, as a scalar subquery."""
    query = exp.select("value").from_("sys.server_properties").where(exp.column("name").eq(name.copy()))
    return query.subquery()
