"""C2PA content credentials: sign a delivered PNG, and read a file's manifest back with its validity.

The manifest records a ``c2pa.created`` action with digitalSourceType trainedAlgorithmicMedia and a
CAWG ``training-mining`` assertion saying ``notAllowed`` (so our own outputs are never trained on,
including by our dataset stage, which honours it). The signing chain is the operator's
(``[guard] c2pa_cert``/``c2pa_key``) or, by default, the local development CA under the data home.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from imagine import __version__
from imagine.guard.devca import ensure_dev_ca
from imagine.guard.metadata import TRAINED_ALGORITHMIC_MEDIA, GenerationInfo

TRAINING_MINING_ENTRIES = ("cawg.ai_generative_training", "cawg.ai_training", "cawg.ai_inference", "cawg.data_mining")
C2paState = Literal["valid", "tampered", "missing"]


@dataclass(frozen=True)
class SigningConfig:
    """The certificate chain (PEM, signer first), its private key (PEM) and algorithm."""

    chain_pem: bytes
    key_pem: bytes
    alg: str = "es256"
    tsa_url: str | None = None
    trust_anchors_pem: str = ""  # roots the verifier trusts in addition to the system's

    @classmethod
    def from_settings(cls, settings=None) -> "SigningConfig":
        """The operator's chain when configured, else the dev CA (made on first use) under the data home."""
        from imagine.config import get_settings

        s = settings or get_settings()
        g = s.guard
        dev = ensure_dev_ca(s.data_home / "guard" / "devca")
        anchors = dev.root.read_text()
        if g.c2pa_trust_anchors is not None:
            anchors += "\n" + Path(g.c2pa_trust_anchors).read_text()
        if (g.c2pa_cert is None) != (g.c2pa_key is None):
            raise ValueError("set both guard.c2pa_cert and guard.c2pa_key, or neither (for the dev CA)")
        if g.c2pa_cert is not None and g.c2pa_key is not None:
            return cls(Path(g.c2pa_cert).read_bytes(), Path(g.c2pa_key).read_bytes(), g.c2pa_alg, g.c2pa_tsa_url, anchors)
        return cls(dev.chain.read_bytes(), dev.key.read_bytes(), "es256", g.c2pa_tsa_url, anchors)


def manifest_definition(info: GenerationInfo, title: str = "image.png") -> dict:
    return {
        "claim_generator_info": [{"name": "imagine", "version": __version__}],
        "title": title,
        "format": "image/png",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {"actions": [{
                    "action": "c2pa.created",
                    "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                    "softwareAgent": {"name": "imagine", "version": __version__},
                    "parameters": {"model": info.model_id},
                }]},
            },
            {
                "label": "cawg.training-mining",
                "data": {"entries": {k: {"use": "notAllowed"} for k in TRAINING_MINING_ENTRIES}},
            },
        ],
    }


def sign_png(png: bytes, info: GenerationInfo, config: SigningConfig) -> bytes:
    """``png`` with an embedded, signed C2PA manifest (no thumbnail: the image is its own preview)."""
    import c2pa

    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
        alg=config.alg.encode(), sign_cert=config.chain_pem, private_key=config.key_pem,
        ta_url=config.tsa_url.encode() if config.tsa_url else None,
    ))
    out = io.BytesIO()
    with signer, c2pa.Builder(manifest_definition(info), context=context) as builder:
        builder.sign(signer, "image/png", io.BytesIO(png), out)
    return out.getvalue()


@dataclass(frozen=True)
class C2paReport:
    """``state``: valid (signature and content hashes check), tampered (manifest present but a
    check fails), missing (no manifest, e.g. after a re-encode). ``trusted``: the chain ends at a
    root we trust. ``failures``: the failing C2PA status codes."""

    state: C2paState
    trusted: bool = False
    digital_source_type: str | None = None
    training_mining: dict[str, str] | None = None
    failures: tuple[str, ...] = ()
    issuer: str | None = None


def read_c2pa(data: bytes, trust_anchors_pem: str = "") -> C2paReport:
    """Validate the C2PA manifest in ``data`` (any format c2pa reads)."""
    import c2pa

    settings: dict = {"verify": {"verify_trust": bool(trust_anchors_pem)}}
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    context = c2pa.Context.from_dict(settings)
    try:
        reader = c2pa.Reader.try_create(None, io.BytesIO(data), None, context)
    except c2pa.C2paError as exc:  # a damaged manifest store is tampering, not absence
        return C2paReport("tampered", failures=(type(exc).__name__.lstrip("_"),))
    if reader is None:
        return C2paReport("missing")
    with reader:
        store = json.loads(reader.json())
        state = reader.get_validation_state() or ""
        results = reader.get_validation_results() or {}
    active = (store.get("manifests") or {}).get(store.get("active_manifest") or "", {})
    failures = tuple(f.get("code", "") for f in (results.get("activeManifest") or {}).get("failure", []))
    untrusted_only = all(code.startswith("signingCredential.untrusted") for code in failures)
    valid = state in ("Valid", "Trusted") or (failures and untrusted_only)
    source, mining = None, None
    for assertion in active.get("assertions") or []:
        label, payload = assertion.get("label", ""), assertion.get("data") or {}
        if label.startswith("c2pa.actions"):
            for action in payload.get("actions", []):
                if action.get("action") == "c2pa.created":
                    source = action.get("digitalSourceType")
        elif "training-mining" in label:
            mining = {k: v.get("use") for k, v in (payload.get("entries") or {}).items() if isinstance(v, dict)}
    return C2paReport(
        state="valid" if valid else "tampered",
        trusted=state == "Trusted",
        digital_source_type=source,
        training_mining=mining,
        failures=tuple(c for c in failures if not c.startswith("signingCredential.untrusted")),
        issuer=(active.get("signature_info") or {}).get("issuer"),
    )
