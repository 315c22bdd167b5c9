"""Dynamics.set, the launch file of a GP desktop client: which products it loads and their dictionaries.

The layout is the Dexterity launch file's ("Lines in a launch file", installation/SystemAdminGuide.md; KB 866722's
example): the number of products, then each product's ID and name, then one or more dictionary location blocks.
Each block is a location ID line ("Windows" is the one the installer writes) followed by three paths per product
in the product order: its main dictionary, its forms dictionary and its reports dictionary ("You must list the
same dictionaries for each dictionary location ID"). Paths are Dexterity's generic ":C:Program Files/Microsoft
Dynamics/GP/Dynamics.dic". The block a desktop client uses is the one the Workstation2 line of its Dex.ini names
(case-sensitive); with several blocks and no Workstation2 line, GP asks the user. Forms and reports dictionaries
exist only once something is customised, so only main dictionaries must exist.

No source gives the file's encoding; administrators edit it with Notepad. `decode` reads UTF-16 by its byte-order
mark, UTF-8 when the bytes are valid UTF-8, else the Windows ANSI code page 1252 [inferred].
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_LOCATION = (
    "Windows"  # "Only one dictionary location ID, typically "Windows," is provided" (SystemAdminGuide.md)
)
WORKSTATION2 = re.compile(r"^\s*Workstation2\s*=(.*)$", re.MULTILINE)  # Dex.ini's dictionary location ID line


@dataclass(frozen=True)
class LaunchProduct:
    product: int  # PRODID, as in DB_Upgrade and DU000020
    name: str
    dictionary: str  # the main dictionary, as a Windows path


@dataclass(frozen=True)
class LaunchFile:
    """A launch file's products and, per dictionary location ID, each product's main dictionary."""

    products: list[tuple[int, str]]
    locations: dict[str, list[LaunchProduct]]

    def block(self, location: str | None) -> list[LaunchProduct]:
        """The products of the location `location` names (Dex.ini's Workstation2); ValueError when it is not one."""
        names = ", ".join(repr(n) for n in self.locations)
        if location is None:
            if len(self.locations) == 1:
                return next(iter(self.locations.values()))
            raise ValueError(
                f"the launch file has several dictionary location IDs ({names}) and Dex.ini names none "
                "(no Workstation2 line): GP asks the user to choose one at the next start"
            )
        if location not in self.locations:
            raise ValueError(
                f"Dex.ini's Workstation2 names the dictionary location ID {location!r}, which the launch "
                f"file does not list (it lists {names}; the ID is case-sensitive)"
            )
        return self.locations[location]


def windows_path(dex_path: str) -> str:
    """':C:Program Files (x86)/Microsoft Dynamics/GP/Dynamics.dic' -> 'C:\\Program Files (x86)\\...\\Dynamics.dic'."""
    text = dex_path.strip().lstrip(":")
    match = re.match(r"([A-Za-z]):[/\\]?(.*)", text)
    path = f"{match.group(1)}:\\{match.group(2)}" if match else text
    return path.replace("/", "\\")


def read(text: str) -> LaunchFile:
    """The launch file's products and location blocks; ValueError saying what is wrong with it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].isdigit():
        raise ValueError("not a Dynamics.set launch file (its first line is not the number of products)")
    count = int(lines[0])
    pairs = lines[1 : 1 + 2 * count]
    if len(pairs) < 2 * count or not all(pairs[i].isdigit() for i in range(0, 2 * count, 2)):
        raise ValueError(f"a launch file listing {count} product(s) but not their IDs and names")
    products = [(int(pairs[2 * i]), pairs[2 * i + 1]) for i in range(count)]
    rest, size = lines[1 + 2 * count :], 1 + 3 * count
    if not rest or len(rest) % size:
        raise ValueError(
            f"a launch file listing {count} product(s) whose dictionary location blocks are not each "
            f"a location ID and {3 * count} dictionary paths"
        )
    locations: dict[str, list[LaunchProduct]] = {}
    for start in range(0, len(rest), size):
        location, paths = rest[start], rest[start + 1 : start + size]
        locations[location] = [
            LaunchProduct(pid, name, windows_path(paths[3 * i])) for i, (pid, name) in enumerate(products)
        ]
    return LaunchFile(products, locations)


def parse(text: str, location: str | None = None) -> list[LaunchProduct]:
    """The products of the block `location` names (Dex.ini's Workstation2), or of the only block."""
    return read(text).block(location)


def workstation2(dex_ini: str) -> str | None:
    """The dictionary location ID a Dex.ini names (its Workstation2 line), or None."""
    match = WORKSTATION2.search(dex_ini)
    return match.group(1).strip() or None if match else None


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a launch or defaults file: UTF-16 by its byte-order mark, UTF-8, else Windows-1252."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data[2:].decode("utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"), "utf-16"
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "windows-1252"
