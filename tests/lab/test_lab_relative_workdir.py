"""A lab started in a relative folder (gpverify demo's default reports/) writes an inventory that works."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gpverify.lab.runtime import start_lab


def test_a_relative_lab_folder_gives_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lab = start_lab("healthy", Path("reports") / "lab")
    try:
        inventory = yaml.safe_load(lab.inventory_path.read_text())
    finally:
        lab.stop()
    # Paths in an inventory are read against the inventory's own folder, so the lab must write absolute ones.
    assert Path(inventory["sql"]["lab_dir"]).is_absolute()
    assert Path(inventory["web_server"]["ca_bundle"]).is_absolute()
