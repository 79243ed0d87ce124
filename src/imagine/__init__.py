"""imagine: consent-aware text-to-image, from a photo platform's public posts to a served generator.

Stages (one folder each): platform -> dataset -> model -> generate -> guard -> serve, with eval beside them.
See ARCHITECTURE.md at the repository root for the whole flow.
"""

__version__ = "0.1.0"
