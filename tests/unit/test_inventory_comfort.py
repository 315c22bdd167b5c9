"""Inventory comfort and strictness: paths, suggestions, YAML 1.1 words, URLs, addresses, timeouts, inventory check."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpverify.cli.main import main
from gpverify.config.inventory import host_specs, load_inventory, parse_inventory
from gpverify.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE: dict[str, Any] = yaml.safe_load((REPO / "inventory.example.yml").read_text(encoding="utf-8"))


def _with(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (
            lambda d: d.update(sesion_hosts=d.pop("session_hosts")),
            "sesion_hosts",
            "a known field (there is no field 'sesion_hosts'; did you mean 'session_hosts'?",
        ),
        (lambda d: d["winrm"].update(tranport="ntlm"), "winrm.tranport", "did you mean 'transport'?"),
        (lambda d: d["winrm"].update(port=True), "winrm.port", "a valid integer, got True"),
        (lambda d: d["winrm"].update(read_timeout=float("inf")), "winrm.read_timeout", "a finite number"),
        (lambda d: d["winrm"].update(read_timeout=1e300), "winrm.read_timeout", "less than or equal to 86400"),
        (lambda d: d["winrm"].update(connect_timeout=0), "winrm.connect_timeout", "greater than 0"),
        (
            lambda d: d["session_hosts"][0].update(address="gpsh01/wsman"),
            "session_hosts[0].address",
            "a host name or IP address only (no scheme, port, path or fragment), got 'gpsh01/wsman'",
        ),
        (lambda d: d["session_hosts"][0].update(address="gpsh01#frag"), "session_hosts[0].address", "no scheme"),
        (lambda d: d["session_hosts"][0].update(address="https://gpsh01"), "session_hosts[0].address", "no scheme"),
        (
            lambda d: d["session_hosts"][0].update(name="gp sh01;rm"),
            "session_hosts[0].name",
            "a host name: letters, digits, '-', '_' and '.', starting with a letter or digit",
        ),
        (
            lambda d: d["web_server"].update(url="gp.contoso.com"),
            "web_server.url",
            "a URL with scheme https (or http) and a host",
        ),
        (lambda d: d["web_server"].update(url="https:///GP"), "web_server.url", "a URL with scheme https"),
        (lambda d: d["web_server"].update(url="https://gp.contoso.com/GP#x"), "web_server.url", "without user, query"),
        (lambda d: d["sql"].update(encrypt=True), "sql.encrypt", "(a word in quotes"),
    ],
)
def test_bad_values_are_refused_naming_field_and_expectation(change: Any, field: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_inventory(_with(change), "inv.yml")
    assert exc.value.field == field and expected in exc.value.expected, str(exc.value)


def test_yaml_1_1_words_and_numbers_read_as_written(tmp_path: Path) -> None:
    text = (REPO / "inventory.example.yml").read_text(encoding="utf-8")
    text = text.replace("profile: gp18.4", "profile: 18.4").replace('encrypt: "yes"', "encrypt: yes")
    path = tmp_path / "inv.yml"
    path.write_text(text, encoding="utf-8")
    inv = load_inventory(path)
    assert inv.profile == "18.4" and inv.sql.encrypt == "yes"


def test_relative_paths_are_relative_to_the_inventory_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    data = _with(
        lambda d: (d["winrm"].update(ca_bundle="certs/root.pem"), d["web_server"].update(ca_bundle="~/web.pem"))
    )
    (site / "inventory.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the inventory's folder
    monkeypatch.setenv("HOME", str(tmp_path))
    inv = load_inventory("site/inventory.yml")
    assert inv.winrm.ca_bundle == str(site.resolve() / "certs" / "root.pem")
    assert inv.web_server.ca_bundle == str(tmp_path / "web.pem")
    assert all(s.winrm.ca_bundle == str(site.resolve() / "certs" / "root.pem") for s in host_specs(inv))


def test_timeouts_default_and_layer() -> None:
    specs = host_specs(parse_inventory(_with(lambda d: d["session_hosts"][0].update(winrm={"deadline": 120})), "i"))
    by_name = {s.name: s.winrm for s in specs}
    assert by_name["gpsh01.contoso.local"].deadline == 120 and by_name["gpsh02.contoso.local"].deadline == 300
    assert {w.connect_timeout for w in by_name.values()} == {10}
    with pytest.raises(ConfigError, match="a deadline at least as long as read_timeout"):
        host_specs(parse_inventory(_with(lambda d: d["winrm"].update(deadline=30)), "i"), "i")


def test_inventory_check_is_offline_and_names_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GPVERIFY_WINRM_PASSWORD", raising=False)
    good = _with(lambda d: d["winrm"].pop("ca_bundle", None))
    path = tmp_path / "inv.yml"
    path.write_text(yaml.safe_dump(good), encoding="utf-8")
    assert main(["inventory", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid inventory" in out and "GPVERIFY_WINRM_PASSWORD (NOT SET)" in out and "5986/wsman" in out
    path.write_text(yaml.safe_dump(_with(lambda d: d.update(sesion_hosts=[]))), encoding="utf-8")
    assert main(["inventory", "check", str(path)]) == 3
    assert "did you mean 'session_hosts'?" in capsys.readouterr().out
    path.write_text(yaml.safe_dump(_with(lambda d: d["winrm"].update(ca_bundle="missing.pem"))), encoding="utf-8")
    assert main(["inventory", "check", str(path)]) == 3
    assert (
        f"problem: gpweb01.contoso.local.winrm.ca_bundle: {tmp_path / 'missing.pem'} does not exist"
        in capsys.readouterr().out
    )
