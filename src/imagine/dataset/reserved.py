"""Machine-readable "do not train on me" reservations embedded in an image file.

Two standards are honoured (the TDM reservations photo platforms actually see):
- XMP ``plus:DataMining`` (PLUS licensing vocabulary): any ``DMI-PROHIBITED*`` value reserves
  the image against AI/ML training.
- C2PA / CAWG ``*.training-mining`` assertions: any entry whose ``use`` is ``notAllowed``.
  The manifest is read with c2pa-python when it validates; when it does not (unknown signer,
  damaged store) the JUMBF bytes are checked directly, so a reservation is never lost to a
  signature problem. Reservations err on the side of exclusion.
"""

from __future__ import annotations

import json
import re

_XMP_DATAMINING = re.compile(
    rb"plus:DataMining(?:\s*=\s*[\"']|>\s*(?:<rdf:[^>]*>\s*)*)[^\"'<]*DMI-PROHIBITED", re.IGNORECASE)
_C2PA_LABEL = re.compile(rb"(?:c2pa|cawg)\.training-mining")


def xmp_reservation(data: bytes, xmp: bytes | str | None = None) -> str | None:
    """The DMI value that prohibits training, if the file's XMP carries one."""
    for blob in (xmp.encode() if isinstance(xmp, str) else xmp, data):
        if blob and _XMP_DATAMINING.search(blob):
            m = re.search(rb"DMI-PROHIBITED[\w-]*", blob)
            return m.group(0).decode() if m else "DMI-PROHIBITED"
    return None


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
    """The training-mining entry that says notAllowed, if the file carries a C2PA manifest with one."""
    if b"jumb" not in data and b"c2pa" not in data:
        return None
    if not _C2PA_LABEL.search(data):
        return None
    try:
        import io

        import c2pa

        with c2pa.Reader(mime, io.BytesIO(data)) as reader:
            found = _not_allowed_in(reader.json())
        if found:
            return found
        return None
    except Exception:  # noqa: BLE001 - an unreadable manifest falls back to the raw bytes below
        pass
    return "training-mining:notAllowed" if b"notAllowed" in data else None
