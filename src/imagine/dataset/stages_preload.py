"""Imported once by the process pool's fork server, so forked workers start with these loaded."""

import sentence_transformers  # noqa: F401  (imports torch and transformers)

from imagine.dataset import caption, consent, embed, load, recaption, transform  # noqa: F401
