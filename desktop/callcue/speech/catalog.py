"""The catalog of speech models Callcue knows how to download (models/catalog.json).

The catalog mirrors the official Vosk list. It is data only: reading it never
touches the network. Tests and offline mirrors point at their own catalog with
`catalog=` or the environment variable CALLCUE_MODEL_CATALOG; URLs are used as
they are written.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from callcue import paths
from callcue.errors import CallcueError

ENV_CATALOG = "CALLCUE_MODEL_CATALOG"
ALGORITHMS = ("md5", "sha1", "sha256")


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    lang: str
    url: str
    checksum: str | None  # "md5:<hex>" or "sha256:<hex>"; None when the list gives none
    size: int | None = None  # bytes of the zip
    lang_text: str = ""
    type: str = ""
    version: str = ""
    obsolete: bool = False

    @property
    def size_text(self) -> str:
        return human_size(self.size) if self.size else "?"


def human_size(n: int | float) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - loop always returns


def default_catalog_path() -> Path:
    override = os.environ.get(ENV_CATALOG)
    if override:
        return Path(override)
    bundled = paths.bundled_models_dir() / "catalog.json"
    if bundled.exists():
        return bundled
    return paths.app_root() / "models" / "catalog.json"


def parse_checksum(text: str, where: str = "catalog") -> tuple[str, str]:
    """'md5:abc…' -> ('md5', 'abc…'), refusing what we could not check."""
    algo, sep, digest = text.partition(":")
    algo = algo.strip().lower()
    digest = digest.strip().lower()
    if not sep or algo not in ALGORITHMS or not re.fullmatch(r"[0-9a-f]+", digest or "-"):
        raise CallcueError(f"{where}: checksum {text!r} is not of the form 'md5:HEX' or 'sha256:HEX'")
    return algo, digest


def _entry(raw: object, where: str) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise CallcueError(f"{where}: each model must be a JSON object with name, lang and url")
    missing = [k for k in ("name", "url") if not raw.get(k)]
    if missing:
        raise CallcueError(f"{where}: model entry {raw.get('name', '?')!r} lacks {', '.join(missing)}")
    checksum = raw.get("checksum")
    if not checksum:
        # The official list's own shape: a bare md5 (or sha256) field.
        for algo in ("sha256", "md5"):
            if raw.get(algo):
                checksum = f"{algo}:{raw[algo]}"
                break
    if checksum:
        parse_checksum(str(checksum), f"{where}: {raw['name']}")
    size = raw.get("size")
    obsolete = raw.get("obsolete", False)
    return CatalogEntry(
        name=str(raw["name"]),
        lang=str(raw.get("lang", "")),
        url=str(raw["url"]),
        checksum=str(checksum) if checksum else None,
        size=int(size) if isinstance(size, (int, float)) and size > 0 else None,
        lang_text=str(raw.get("lang_text", "")),
        type=str(raw.get("type", "")),
        version=str(raw.get("version", "")),
        # The official list writes "true"/"false" as strings.
        obsolete=obsolete is True or str(obsolete).lower() == "true",
    )


def load_catalog(path: str | os.PathLike[str] | None = None) -> list[CatalogEntry]:
    """Entries of a catalog file: ours ({"models": [...]}) or the official list (a JSON array)."""
    p = Path(path) if path is not None else default_catalog_path()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CallcueError(f"{p}: model catalog not found; reinstall Callcue or set "
                           f"{ENV_CATALOG} to a catalog file") from None
    except OSError as err:
        raise CallcueError(f"{p}: cannot read the model catalog ({err.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CallcueError(f"{p}:{err.lineno}: the model catalog is not valid JSON ({err.msg})") from None
    items = data.get("models") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise CallcueError(f"{p}: a model catalog is a JSON list of models, or an object with a "
                           "'models' list")
    return [_entry(item, str(p)) for item in items]


def find_entry(name: str, catalog: list[CatalogEntry]) -> CatalogEntry:
    for entry in catalog:
        if entry.name == name:
            return entry
    names = [e.name for e in catalog]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise CallcueError(f"no model named {name!r} in the catalog; {hint}"
                       "`callcue models list` shows the ones you can install")
