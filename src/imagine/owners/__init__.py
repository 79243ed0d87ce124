"""Photo owners' side of the system: claim an owner id, see what happened to each photo, opt out,
delete, ask "was this photo used?", and export everything held about you.

The library is independent of the web app's request handling: every function takes a database
session and explicit paths, so the CLI, the web pages and the tests call the same code.
"""

from imagine.owners.claims import ClaimError, claim_owner, linked_owner
from imagine.owners.requests import OwnerRequestError, request_delete, request_opt_out

__all__ = [
    "ClaimError",
    "OwnerRequestError",
    "claim_owner",
    "linked_owner",
    "request_delete",
    "request_opt_out",
]
