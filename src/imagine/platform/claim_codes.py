"""One-time codes with which demo photo owners claim their owner id in the web app.

A real platform links accounts through its own log-in (docs/owners.md); the demo platform has none, so
``imagine platform demo`` issues one code per owner instead:

- each code is 80 bits from ``secrets`` (16 characters of an unambiguous 32-letter alphabet, shown in groups
  of four), never derived from the seed, so knowing how the corpus was made does not give the codes;
- ``claim_codes.json`` ``{owner_id: code}`` is written once, mode 0600: the operator's copy to hand out;
- ``claim_code_hashes.json`` ``{owner_id: sha256}`` is what the service reads, so the service never holds a
  usable code. SHA-256 without a salt or a slow hash is enough for 80 random bits (nothing to guess from a
  dictionary); typing mistakes in case, spaces and dashes are forgiven by ``normalise_code``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from imagine.atomic import atomic_write

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_CHARS = 16  # 16 x 5 bits = 80 bits
CODES_FILE = "claim_codes.json"
HASHES_FILE = "claim_code_hashes.json"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_CHARS, 4))


def normalise_code(code: str) -> str:
    """The code as issued, whatever the case, spaces or dashes it was typed with."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()


def issue_claim_codes(out: Path, owner_ids: list[str]) -> dict[str, str]:
    """New codes for ``owner_ids``: the codes file (0600, for the operator) and the hashes file (for the service)."""
    codes = {owner_id: new_code() for owner_id in owner_ids}
    atomic_write(Path(out) / CODES_FILE, json.dumps(codes, indent=1, sort_keys=True) + "\n", mode=0o600)
    hashes = {owner_id: code_hash(code) for owner_id, code in codes.items()}
    atomic_write(Path(out) / HASHES_FILE, json.dumps(hashes, indent=1, sort_keys=True) + "\n", mode=0o600)
    return codes


def load_code_hashes(path: Path) -> dict[str, str]:
    """``{sha256: owner_id}`` from a hashes file written by ``issue_claim_codes``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no claim code hashes at {path}; run `imagine platform demo` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{owner_id: sha256}}")
    return {str(digest): str(owner_id) for owner_id, digest in data.items()}
