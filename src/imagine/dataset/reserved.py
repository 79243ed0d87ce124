"""Machine-readable "do not train on me" reservations embedded in an image file.

- XMP ``plus:DataMining`` = any ``DMI-PROHIBITED*`` value, and a CAWG ``cawg.training-mining``
  assertion with ``notAllowed`` training entries carried in XMP: read by the platform's
  ``imagine.platform.metadata.read_training_signals`` (the same reader the demo is checked with).
- A real C2PA manifest store (JUMBF) whose ``c2pa.``/``cawg.training-mining`` assertion has an entry
  with ``use: notAllowed``: read with c2pa-python when the manifest validates; when it does not
  (unknown signer, damaged store) the raw bytes are checked, so a reservation is never lost to a
  signature problem. Reservations err on the side of exclusion.
"""

from __future__ import annotations

import io
import json
import re

from imagine.platform.metadata import read_training_signals

_C2PA_LABEL = re.compile(rb"(?:c2pa|cawg)\.training-mining")


def _not_allowed_in(manifest_json: str) -> str | None:
    store = json.loads(manifest_json)
    for manifest in (store.get("manifests") or {}).values():
        for assertion in manifest.get("assertions") or []:
            label = str(assertion.get("label", ""))
            if "training-mining" not in label:
                continue
            entries = (assertion.get("data") or {}).get("entries") or {}
            for key, entry in entries.items():
                if isinstance(entry, dict) and entry.get("use") == "notAllowed":
                    return f"{label}:{key}"
    return None


def c2pa_reservation(data: bytes, mime: str) -> str | None:
    """The training-mining entry that says notAllowed, if the file carries a C2PA store with one."""
    if b"jumb" not in data or not _C2PA_LABEL.search(data):
        return None
    try:
        import c2pa

        with c2pa.Reader(mime, io.BytesIO(data)) as reader:
            return _not_allowed_in(reader.json())
    except Exception:  # noqa: BLE001 - an unreadable manifest falls back to the raw bytes below
        return "training-mining:notAllowed" if b"notAllowed" in data else None


def reservation(data: bytes, mime: str) -> str | None:
    """Why the file's own metadata forbids training on it (a short machine-readable tag), or None."""
    signals = read_training_signals(data)
    if signals:
        return ",".join(sorted(signals))
    return c2pa_reservation(data, mime)
