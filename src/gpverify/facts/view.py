"""What a check sees of one host: typed facts by profile key, each lookup recorded as evidence."""

from __future__ import annotations

from typing import Any

from gpverify.errors import HostUnavailable
from gpverify.facts.windows import (
    CertificateFact,
    DictionaryFact,
    FileFact,
    HostFacts,
    ProductFact,
    RegistryFact,
    RegistrySubkeyFact,
    ServiceFact,
    TextFact,
)


class HostView:
    """Read-only access to a host's facts; every fact a check reads is kept as the evidence it judged."""

    def __init__(self, name: str, facts: HostFacts, evidence: dict[str, Any]) -> None:
        self.name = name
        self._facts = facts
        self._evidence = evidence

    def __repr__(self) -> str:
        return f"<host {self.name}>"

    def _record(self, section: str, key: str, value: Any) -> Any:
        for error in self._facts.errors:
            if (error.section, error.key) == (section, key):
                # The collector could not read it (e.g. access denied): nothing to judge, so an error, not
                # a "not installed" failure.
                raise HostUnavailable(self.name, f"the collector could not read {section} '{key}': {error.message}")
        if key not in getattr(self._facts, section):
            # Nothing asked for it, so absence means nothing: an error naming the key, never "not installed".
            raise HostUnavailable(
                self.name,
                f"no {section} '{key}' was collected from this host (a check reads a "
                "fact its role does not collect: add it under extra_facts in the inventory)",
            )
        dump = (
            [v.model_dump(mode="json") for v in value]
            if isinstance(value, list)
            else (value.model_dump(mode="json") if value is not None else None)
        )
        if isinstance(value, TextFact) and isinstance(dump, dict):
            # A configuration file may hold more than the checks need (connection strings): keep its size only.
            dump["text"] = None if value.text is None else f"({len(value.text)} characters, not kept)"
        self._evidence[f"{self.name}: {section}.{key}"] = dump
        return value

    def services(self, key: str) -> list[ServiceFact]:
        """Services matching the profile's name or display-name pattern for this key."""
        return self._record("services", key, self._facts.services.get(key, []))  # type: ignore[no-any-return]

    def service(self, key: str) -> ServiceFact | None:
        found = self.services(key)
        return found[0] if found else None

    def file(self, key: str) -> FileFact | None:
        return self._record("files", key, self._facts.files.get(key))  # type: ignore[no-any-return]

    def found_files(self, key: str) -> list[FileFact]:
        """Every release's copy of a file (side-by-side installs), from the file_search section."""
        return self._record("file_search", key, self._facts.file_search.get(key, []))  # type: ignore[no-any-return]

    def dictionaries(self, key: str) -> list[DictionaryFact]:
        """The products a launch file (profile files.<key>) loads, each with its main dictionary."""
        return self._record("dictionaries", key, self._facts.dictionaries.get(key, []))  # type: ignore[no-any-return]

    def text(self, key: str) -> TextFact | None:
        """A small text file read whole (TenantConfiguration.xml, Dynamics.set)."""
        return self._record("texts", key, self._facts.texts.get(key))  # type: ignore[no-any-return]

    def registry(self, key: str) -> RegistryFact | None:
        return self._record("registry", key, self._facts.registry.get(key))  # type: ignore[no-any-return]

    def registry_subkeys(self, key: str) -> list[RegistrySubkeyFact]:
        """Every subkey of the profile's registry.<key> path, with the value it names."""
        return self._record("registry_subkeys", key, self._facts.registry_subkeys.get(key, []))  # type: ignore[no-any-return]

    def products(self, key: str) -> list[ProductFact]:
        return self._record("products", key, self._facts.products.get(key, []))  # type: ignore[no-any-return]

    def certificates(self, key: str) -> list[CertificateFact]:
        return self._record("certificates", key, self._facts.certificates.get(key, []))  # type: ignore[no-any-return]
