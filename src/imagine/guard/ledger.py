"""The record of watermark payloads this installation issued, so the verifier can say "ours".

A small SQLite file under the data home (``guard/issued.sqlite``), one row per delivered image:
the 32-bit generation id, the 16-bit model id, the model name, the time and the SHA-256 of the
delivered PNG. No prompts: the record proves origin without keeping what people asked for.
"""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS issued (
    generation INTEGER NOT NULL,
    model INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    png_sha256 TEXT,
    PRIMARY KEY (generation, model)
)
"""


@dataclass(frozen=True)
class Issued:
    generation: int
    model: int
    model_id: str
    created_at: str
    png_sha256: str | None


class Ledger:
    """Issued generation ids; safe for several processes (SQLite WAL, one short transaction each)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @classmethod
    def default(cls, settings=None) -> "Ledger":
        from imagine.config import get_settings

        return cls((settings or get_settings()).data_home / "guard" / "issued.sqlite")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: never corrupt, no fsync per image
        return db

    def new_generation_id(self, model: int) -> int:
        """A random 32-bit id not yet issued for ``model`` (random, so ids reveal no volumes)."""
        with closing(self._connect()) as db:
            for _ in range(100):
                candidate = secrets.randbits(32)
                if db.execute("SELECT 1 FROM issued WHERE generation=? AND model=?", (candidate, model)).fetchone() is None:
                    return candidate
        raise RuntimeError("could not find an unused generation id in 100 tries")

    def record(self, generation: int, model: int, model_id: str, png_sha256: str | None = None,
               created_at: datetime | None = None) -> None:
        when = (created_at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat()
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO issued VALUES (?, ?, ?, ?, ?)",
                       (generation, model, model_id, when, png_sha256))

    def lookup(self, generation: int, model: int) -> Issued | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM issued WHERE generation=? AND model=?", (generation, model)).fetchone()
        return Issued(*row) if row else None
