"""The lab's answer to the collector: what collector.ps1 would print on a simulated host.

PowerShell cannot run here (winrm-and-odbc.md section C), so the lab reads the same JSON request the
script receives and answers it from the host's state, with the script's matching rules: services by
exact short name or display-name wildcard (-like), products by DisplayName wildcard or installer package name
(with their installed Windows Installer features), registry values by view, key and name, a key's subkeys, files
by path or by a one-level wildcard, text files with the same size cap and decoding, launch files by the block
Dex.ini's Workstation2 names. Not emulated: environment variable expansion beyond the two GP
folders, chain building (a certificate's chain_ok is lab state), and PowerShell's one-element-array quirk.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from gpverify.facts import dynamicsset
from gpverify.lab import sessioncentral
from gpverify.lab.models import FakeHost, expand


def _like(value: str, pattern: str) -> bool:
    # PowerShell -like is a case-insensitive wildcard match.
    return fnmatchcase(value.lower(), pattern.lower())


def _services(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "display_name": s.display_name,
            "status": s.status,
            "start_mode": s.start_mode,
            "account": s.account,
            "started": s.started.isoformat() if s.started is not None and s.status == "Running" else None,
        }
        for s in host.services.values()
        if s.name in q.get("names", [])
        or any(_like(s.name, p) for p in q.get("name_patterns", []))
        or any(_like(s.display_name, p) for p in q.get("display", []))
    ]


def _file(host: FakeHost, q: dict[str, Any]) -> dict[str, Any]:
    path = expand(q["path"])
    known = {k.lower(): v for k, v in host.files.items()}
    present = known.get(path.lower()) is not None
    # A text file (TenantConfiguration.xml) is a file too, to Test-Path: present, with no version resource.
    text = {k.lower(): v for k, v in host.texts.items()}.get(path.lower()) is not None
    return {"path": path, "exists": present or text, "version": (known[path.lower()] or None) if present else None}


def _file_search(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    # Get-ChildItem with a wildcard in one folder level: '*' does not cross a backslash.
    found = {
        path
        for pattern in q["patterns"]
        for path, version in host.files.items()
        if version is not None and _like_path(path, expand(pattern))
    }
    return [_file(host, {"path": path}) for path in sorted(found)]


def _like_path(path: str, pattern: str) -> bool:
    parts, wanted = path.lower().split("\\"), pattern.lower().split("\\")
    return len(parts) == len(wanted) and all(fnmatchcase(a, b) for a, b in zip(parts, wanted, strict=True))


def _text(host: FakeHost, q: dict[str, Any]) -> dict[str, Any]:
    """Get-TextFacts: the size cap first, then UTF-16 by its byte-order mark, UTF-8, else Windows-1252."""
    path = expand(q["path"])
    content = {k.lower(): v for k, v in host.texts.items()}.get(path.lower())
    if content is None:
        return {"path": path, "exists": False}
    data = content.encode("utf-8") if isinstance(content, str) else content
    if len(data) > int(q["max_bytes"]):
        return {
            "path": path,
            "exists": True,
            "problem": f"too large ({len(data)} bytes, at most {q['max_bytes']} are read)",
        }
    if not data:
        return {"path": path, "exists": True, "problem": "empty"}
    text, encoding = dynamicsset.decode(data)
    return {"path": path, "exists": True, "text": text, "encoding": encoding}


def _registry(host: FakeHost, q: dict[str, Any]) -> dict[str, Any]:
    keys = {(v, p.lower()) for v, p, _ in host.registry}
    value = {(v, p.lower(), n.lower()): val for (v, p, n), val in host.registry.items()}.get(
        (q["view"], q["path"].lower(), q["name"].lower())
    )
    return {"key_exists": (q["view"], q["path"].lower()) in keys, "exists": value is not None, "value": value}


def _registry_subkeys(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    """Get-RegistrySubkeyFacts: every subkey one level below the key, with the value the query names."""
    prefix = q["path"].lower() + "\\"
    subkeys = sorted(
        {
            p[len(prefix) :]
            for v, p, _ in host.registry
            if v == q["view"] and p.lower().startswith(prefix) and "\\" not in p[len(prefix) :]
        }
    )
    values = {(v, p.lower(), n.lower()): val for (v, p, n), val in host.registry.items()}
    return [
        {"subkey": sub, "value": values.get((q["view"], prefix + sub.lower(), q["name"].lower()))} for sub in subkeys
    ]


def _products(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    """Get-ProductFacts: by DisplayName, or by the .msi a product came from when the query names one; with the
    installed features and, when asked, every feature's Title from the cached package's Feature table
    (Get-FeatureTitles)."""

    def wanted(name: str) -> bool:
        package = host.packages.get(name, "")
        return _like(name, q["pattern"]) or bool(q.get("package") and package and _like(package, q["package"]))

    def titled(name: str) -> dict[str, Any]:
        if not q.get("titles"):
            return {}
        table = host.feature_titles.get(name)
        return {"titles": dict(table or {}), "titles_error": None if table else "no cached package (LocalPackage)"}

    return [
        {
            "name": n,
            "version": v,
            "package": host.packages.get(n, "") if q.get("package") else "",
            "features": host.features.get(n, []),
            **titled(n),
        }
        for n, v in sorted(host.products.items())
        if wanted(n)
    ]


def _certificates(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "subject": c.subject,
            "issuer": c.issuer,
            "thumbprint": c.thumbprint,
            "not_after": c.not_after.isoformat(),
            "chain_ok": c.chain_ok,
        }
        for c in host.certificates.get(q["store"], [])
    ]


class ReaderError(Exception):
    """What Invoke-Section's catch turns into an entry of `errors` (e.g. a launch file that cannot be read)."""


def _location(host: FakeHost, q: dict[str, Any]) -> str | None:
    """Get-LocationId: the Workstation2 line of the Dex.ini the query names."""
    if not q.get("dex_ini"):
        return None
    ini = _text(host, {"path": q["dex_ini"], "max_bytes": q["max_bytes"]})
    return dynamicsset.workstation2(ini["text"]) if ini.get("text") else None


def _dictionaries(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    """Get-DictionaryFacts: the launch file's products in the block Dex.ini names, each main dictionary looked up."""
    launch = _text(host, q)
    if not launch["exists"]:
        raise ReaderError(f"launch file not found: {launch['path']}")
    if launch.get("problem"):
        raise ReaderError(f"launch file {launch['path']} cannot be read: {launch['problem']}")
    try:
        launch_file = dynamicsset.read(launch["text"])
        location = _location(host, q)
        products = launch_file.block(location)
    except ValueError as exc:
        raise ReaderError(f"{launch['path']}: {exc}") from None
    used = location or next(iter(launch_file.locations))
    return [
        {
            "product": p.product,
            "name": p.name,
            "path": p.dictionary,
            "location": used,
            "exists": _file(host, {"path": p.dictionary})["exists"],
        }
        for p in products
    ]


READERS = {
    "services": _services,
    "files": _file,
    "file_search": _file_search,
    "registry": _registry,
    "registry_subkeys": _registry_subkeys,
    "products": _products,
    "certificates": _certificates,
    "texts": _text,
    "dictionaries": _dictionaries,
    "session_central": sessioncentral.collector_answer,
    "events": sessioncentral.events_answer,
}


def answer(host: FakeHost, request: dict[str, Any]) -> dict[str, Any]:
    """The collector's JSON document for this host and request."""
    # Windows PowerShell 5.1 as on Windows Server 2016/2019 (the lab's hosts), for `gpverify doctor`.
    result: dict[str, Any] = {
        "collector": 1,
        "computer": host.name.upper(),
        "ps_version": "5.1.17763.2183",
        "errors": [],
    }
    for section, reader in READERS.items():
        result[section] = {}
        for q in request.get(section, []):
            try:
                result[section][q["key"]] = reader(host, q)
            except ReaderError as exc:
                result["errors"].append({"section": section, "key": q["key"], "message": str(exc)})
    return result
