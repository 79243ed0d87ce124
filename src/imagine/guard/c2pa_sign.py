"""C2PA content credentials: sign a delivered PNG, and read a file's manifest back with its validity.

The manifest records a ``c2pa.created`` action with digitalSourceType trainedAlgorithmicMedia (an edit:
the input as a ``parentOf`` ingredient, ``c2pa.opened`` + ``c2pa.edited`` with compositeWithTrainedAlgorithmicMedia) and a
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


SOURCE_INGREDIENT = "source"  # the ingredient's label, referenced by the c2pa.opened action


def manifest_definition(info: GenerationInfo, title: str = "image.png", mime: str = "image/png") -> dict:
    """A generation: one ``c2pa.created`` action (trainedAlgorithmicMedia). An edit (``info.source``): the input
    is a ``parentOf`` ingredient, ``c2pa.opened`` names it and ``c2pa.edited`` says what the model did
    (compositeWithTrainedAlgorithmicMedia), as the C2PA spec asks of an edited asset."""
    agent = {"name": "imagine", "version": __version__}
    parameters = {"model": info.model_id} | ({"strength": info.strength} if info.strength is not None else {})
    if info.source is None:
        actions = [{"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                    "softwareAgent": agent, "parameters": parameters}]
    else:
        actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": [SOURCE_INGREDIENT]}},
                   {"action": "c2pa.edited", "digitalSourceType": info.digital_source_type,
                    "softwareAgent": agent, "parameters": parameters}]
    return _definition(title, mime, actions)


def _definition(title: str, mime: str, actions: list[dict]) -> dict:
    return {
        "claim_generator_info": [{"name": "imagine", "version": __version__}],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {
                "label": "cawg.training-mining",
                "data": {"entries": {k: {"use": "notAllowed"} for k in TRAINING_MINING_ENTRIES}},
            },
        ],
    }


def _sign(data: bytes, mime: str, definition: dict, config: SigningConfig,
          ingredient: tuple[dict, str, bytes] | None = None) -> bytes:
    import c2pa

    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
        alg=config.alg.encode(), sign_cert=config.chain_pem, private_key=config.key_pem,
        ta_url=config.tsa_url.encode() if config.tsa_url else None,
    ))
    out = io.BytesIO()
    with signer, c2pa.Builder(definition, context=context) as builder:
        if ingredient is not None:
            ingredient_json, ingredient_mime, ingredient_data = ingredient
            builder.add_ingredient(ingredient_json, ingredient_mime, io.BytesIO(ingredient_data))
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()


def sign_png(png: bytes, info: GenerationInfo, config: SigningConfig) -> bytes:
    """``png`` with an embedded, signed C2PA manifest (no thumbnail: the image is its own preview); an edit's
    input goes in as the ingredient, with its own manifest when it has one (e.g. an image made here)."""
    ingredient = None
    if info.source is not None:
        ingredient = ({"title": info.source.title, "relationship": "parentOf", "label": SOURCE_INGREDIENT},
                      info.source.mime, info.source.data)
    return _sign(png, "image/png", manifest_definition(info), config, ingredient)


def sign_transcoded(data: bytes, mime: str, parent_png: bytes, config: SigningConfig, title: str = "image") -> bytes:
    """``data`` (the same pixels re-encoded as ``mime``) signed as a transcode of ``parent_png``: the signed PNG
    is its ``parentOf`` ingredient, so its manifest (and what it says the image is) travels along."""
    actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": [SOURCE_INGREDIENT]}},
               {"action": "c2pa.transcoded", "softwareAgent": {"name": "imagine", "version": __version__}}]
    ingredient = ({"title": f"{title}.png", "relationship": "parentOf", "label": SOURCE_INGREDIENT}, "image/png",
                  parent_png)
    return _sign(data, mime, _definition(title, mime, actions), config, ingredient)


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
    actions: tuple[str, ...] = ()
    ingredients: tuple["C2paIngredient", ...] = ()


@dataclass(frozen=True)
class C2paIngredient:
    """An ingredient of the active manifest: an edit's input, or the PNG a JPEG/WebP was transcoded from.
    ``manifest``: the ingredient's own manifest label when it carried one; ``digital_source_type`` what that
    manifest said it was (e.g. trainedAlgorithmicMedia for an image generated here)."""

    title: str | None
    format: str | None
    relationship: str | None
    manifest: str | None = None
    digital_source_type: str | None = None


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
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest") or "", {})
    failures = tuple(f.get("code", "") for f in (results.get("activeManifest") or {}).get("failure", []))
    untrusted_only = all(code.startswith("signingCredential.untrusted") for code in failures)
    valid = state in ("Valid", "Trusted") or (failures and untrusted_only)
    actions, source, mining = _actions(active), _source_type(active), None
    for assertion in active.get("assertions") or []:
        if "training-mining" in assertion.get("label", ""):
            payload = assertion.get("data") or {}
            mining = {k: v.get("use") for k, v in (payload.get("entries") or {}).items() if isinstance(v, dict)}
    ingredients = []
    for item in active.get("ingredients") or []:
        own = manifests.get(item.get("active_manifest") or "", {})
        ingredients.append(C2paIngredient(title=item.get("title"), format=item.get("format"),
                                          relationship=item.get("relationship"),
                                          manifest=item.get("active_manifest"),
                                          digital_source_type=_source_type(own) if own else None))
    if source is None and "c2pa.transcoded" in actions:  # a re-encode says what its parent said
        source = next((i.digital_source_type for i in ingredients if i.relationship == "parentOf"), None)
    return C2paReport(
        state="valid" if valid else "tampered",
        trusted=state == "Trusted",
        digital_source_type=source,
        training_mining=mining,
        failures=tuple(c for c in failures if not c.startswith("signingCredential.untrusted")),
        issuer=(active.get("signature_info") or {}).get("issuer"),
        actions=actions,
        ingredients=tuple(ingredients),
    )


def _actions(manifest: dict) -> tuple[str, ...]:
    return tuple(action.get("action", "") for assertion in manifest.get("assertions") or []
                 if assertion.get("label", "").startswith("c2pa.actions")
                 for action in (assertion.get("data") or {}).get("actions", []))


def _source_type(manifest: dict) -> str | None:
    """The digitalSourceType of a manifest's created or edited action."""
    for assertion in manifest.get("assertions") or []:
        if assertion.get("label", "").startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions", []):
                if action.get("action") in ("c2pa.created", "c2pa.edited") and action.get("digitalSourceType"):
                    return action["digitalSourceType"]
    return None
