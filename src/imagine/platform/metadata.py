"""Machine-readable "do not train" signals carried inside image files, as real uploads carry them.

Two signals are written and read:

* IPTC/PLUS: XMP property ``plus:DataMining`` (namespace ``http://ns.useplus.org/ldf/xmp/1.0/``) set to
  ``http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED`` (or one of the other ``DMI-PROHIBITED-*`` values).
* CAWG training-and-data-mining assertion (label ``cawg.training-mining``) with ``notAllowed`` entries. A real
  one lives in a signed C2PA manifest; the demo carries the same assertion JSON unsigned, in an XMP property
  ``imaginecawg:TrainingMining`` (namespace ``CAWG_XMP_NS``), because embedding a signed manifest per demo
  image needs a signing certificate chain. The reader accepts exactly this carrier.

The reader scans raw bytes for the XMP packet, so it works on JPEG (APP1), PNG (iTXt) and WebP (XMP chunk)
alike, and even on a truncated file whose header survived.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
DMI_PROHIBITED = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"
# Every PLUS value that forbids AI/ML training.
DMI_PROHIBITING = frozenset(
    {
        DMI_PROHIBITED,
        "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING",
        "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING",
        "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
    }
)
# IPTC's newer "allowed except AI training" values: also a reservation of AI training (their own
# signal). DMI-UNSPECIFIED says nothing and is not a reservation.
DMI_NO_AI_TRAINING = frozenset(
    {
        "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED-noaitraining",
        "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED-noaigentraining",
    }
)
DMI_UNSPECIFIED = "http://ns.useplus.org/ldf/vocab/DMI-UNSPECIFIED"
CAWG_LABEL = "cawg.training-mining"
CAWG_XMP_NS = "https://imagine.invalid/ns/cawg-training-mining/1.0/"
# CAWG entries that forbid what a text-to-image training run does.
CAWG_TRAINING_ENTRIES = ("cawg.ai_generative_training", "cawg.ai_training")

SIGNAL_DMI = "xmp_dmi_prohibited"
SIGNAL_CAWG = "cawg_not_allowed"
SIGNAL_DMI_NO_AI = "xmp_dmi_noaitraining"

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_PACKET = re.compile(rb"<x:xmpmeta.*?</x:xmpmeta>", re.DOTALL)


def cawg_assertion() -> dict:
    """The CAWG v1 training-mining assertion that forbids every use."""
    entries = {name: {"use": "notAllowed"} for name in ("cawg.data_mining", "cawg.ai_inference", *CAWG_TRAINING_ENTRIES)}
    return {"label": CAWG_LABEL, "data": {"entries": entries}}


def xmp_packet(*, dmi_prohibited: bool = False, cawg_not_allowed: bool = False, dmi_value: str | None = None) -> bytes:
    """An XMP packet carrying the chosen signals (also an ordinary creator tool field, like real files)."""
    attributes = ['xmlns:xmp="http://ns.adobe.com/xap/1.0/"', 'xmp:CreatorTool="imagine demo platform"']
    if dmi_prohibited or dmi_value:
        attributes += [f'xmlns:plus="{PLUS_NS}"', f'plus:DataMining="{dmi_value or DMI_PROHIBITED}"']
    if cawg_not_allowed:
        payload = json.dumps(cawg_assertion(), sort_keys=True, separators=(",", ":"))
        attributes += [f'xmlns:imaginecawg="{CAWG_XMP_NS}"', f"imaginecawg:TrainingMining={quoteattr(payload)}"]
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" {" ".join(attributes)}/></rdf:RDF></x:xmpmeta>'
    ).encode("utf-8")


def _properties(packet: bytes) -> dict[str, str]:
    """Every simple property of the packet's rdf:Description elements, as ``{namespace}name``: value."""
    found: dict[str, str] = {}
    root = ET.fromstring(packet)
    for desc in root.iter(f"{{{_RDF}}}Description"):
        found.update(desc.attrib)
        for child in desc:
            if child.text and child.text.strip():
                found[child.tag] = child.text.strip()
            resource = child.attrib.get(f"{{{_RDF}}}resource")
            if resource:
                found[child.tag] = resource
    return found


def read_training_signals(data: bytes) -> frozenset[str]:
    """The "do not train" signals in a file's bytes: a subset of {SIGNAL_DMI, SIGNAL_DMI_NO_AI, SIGNAL_CAWG}.

    A packet that is not well-formed XML carries no readable signal and is ignored only after
    every other packet was read; bytes with no packet give the empty set.
    """
    signals: set[str] = set()
    for match in _PACKET.finditer(data):
        try:
            props = _properties(match.group(0))
        except ET.ParseError:
            continue
        dmi = props.get(f"{{{PLUS_NS}}}DataMining")
        if dmi in DMI_PROHIBITING:
            signals.add(SIGNAL_DMI)
        elif dmi in DMI_NO_AI_TRAINING:
            signals.add(SIGNAL_DMI_NO_AI)
        raw = props.get(f"{{{CAWG_XMP_NS}}}TrainingMining")
        if raw:
            assertion = json.loads(raw)
            entries = assertion.get("data", {}).get("entries", {})
            if any(entries.get(name, {}).get("use") == "notAllowed" for name in CAWG_TRAINING_ENTRIES):
                signals.add(SIGNAL_CAWG)
    return frozenset(signals)
