"""What a generated demo corpus holds, as numbers and as the Rich table `imagine platform demo` prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table


@dataclass
class DemoSummary:
    out: Path
    posts: int = 0
    owners: int = 0
    by_visibility: Counter = field(default_factory=Counter)
    deleted_posts: int = 0
    opted_out_owners: int = 0
    opted_out_posts: int = 0  # posts whose owner opted out of AI training
    minor_owners: int = 0
    minor_posts: int = 0
    deleted_accounts: int = 0
    regions: Counter = field(default_factory=Counter)
    eu_owners: int = 0
    reserved_by_metadata: int = 0  # posts whose file carries a do-not-train signal
    corrupt_files: int = 0
    duplicate_groups: int = 0  # originals that have at least one copy
    duplicates: int = 0
    events: Counter = field(default_factory=Counter)
    tags: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def claim_codes_path(self) -> Path:
        return self.out / "claim_codes.json"

    def table(self) -> Table:
        """The corpus at a glance: one row per figure the issue asks for."""
        table = Table(title=f"Demo platform corpus in {self.out}", show_lines=False)
        table.add_column("what")
        table.add_column("count", justify="right")
        table.add_column("detail")
        table.add_row("posts", str(self.posts), f"{self.posts / max(self.seconds, 1e-9):.0f} posts/s")
        for visibility in ("public", "friends", "private"):
            table.add_row(f"  {visibility}", str(self.by_visibility[visibility]), "")
        table.add_row("deleted posts", str(self.deleted_posts), "deleted_at set at export")
        table.add_row("owners", str(self.owners), f"{self.deleted_accounts} accounts deleted")
        table.add_row("opted out", str(self.opted_out_owners), f"owners; {self.opted_out_posts} of their posts")
        table.add_row("minors", str(self.minor_owners), f"owners; {self.minor_posts} of their posts")
        top = ", ".join(f"{r} {n}" for r, n in self.regions.most_common(6))
        table.add_row("regions", str(len(self.regions)), f"{self.eu_owners} EU owners; {top}")
        table.add_row("reserved by metadata", str(self.reserved_by_metadata), "XMP DataMining / CAWG training-mining")
        table.add_row("corrupt files", str(self.corrupt_files), "truncated, zero-byte, not an image")
        table.add_row("duplicate groups", str(self.duplicate_groups), f"{self.duplicates} copies (exact, near, re-posts)")
        table.add_row("later events", str(sum(self.events.values())), ", ".join(f"{k} {v}" for k, v in sorted(self.events.items())))
        return table
