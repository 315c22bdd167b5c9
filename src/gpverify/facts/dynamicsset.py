"""Dynamics.set, the launch file of a GP desktop client: which products it loads and their dictionaries.

Its layout is the Dexterity launch file's (installation/SystemAdminGuide.md describes Dynamics.set as the list of
installed products and their dictionary locations; the exact layout is inferred from launch files administrators
publish): the number of products, then each product's ID and name, then a platform line ("Windows"), then
three paths per product in the same order: its main dictionary, its forms dictionary and its reports
dictionary. Paths are Dexterity's ":C:Program Files (x86)/Microsoft Dynamics/GP/Dynamics.dic". Forms and
reports dictionaries exist only once something is customised, so only main dictionaries must exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LaunchProduct:
    product: int  # PRODID, as in DB_Upgrade and DU000020
    name: str
    dictionary: str  # the main dictionary, as a Windows path


def windows_path(dex_path: str) -> str:
    """':C:Program Files (x86)/Microsoft Dynamics/GP/Dynamics.dic' -> 'C:\\Program Files (x86)\\...\\Dynamics.dic'."""
    text = dex_path.strip().lstrip(":")
    match = re.match(r"([A-Za-z]):[/\\]?(.*)", text)
    path = f"{match.group(1)}:\\{match.group(2)}" if match else text
    return path.replace("/", "\\")


def parse(text: str) -> list[LaunchProduct]:
    """The products of a launch file; ValueError saying what is wrong with it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].isdigit():
        raise ValueError("not a Dynamics.set launch file (its first line is not the number of products)")
    count = int(lines[0])
    products = lines[1:1 + 2 * count]
    paths = lines[2 + 2 * count:]
    if len(products) < 2 * count or len(paths) < 3 * count or not all(products[i].isdigit() for i in range(0, 2 * count, 2)):
        raise ValueError(f"a launch file listing {count} product(s) but not their IDs, names and dictionaries")
    return [LaunchProduct(int(products[2 * i]), products[2 * i + 1], windows_path(paths[3 * i])) for i in range(count)]
