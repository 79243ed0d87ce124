"""API keys: list, create (the key is shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response

from imagine.serve import accounts
from imagine.serve.deps import ApiUser, DbDep
from imagine.serve.errors import ErrorResponse
from imagine.serve.schemas import KeyCreate, KeyCreated, KeyPublic

router = APIRouter(prefix="/api/v1/keys", tags=["keys"],
                   responses={c: {"model": ErrorResponse} for c in (400, 401, 403, 404)})


def _public(row) -> KeyPublic:  # noqa: ANN001 - ApiKey
    return KeyPublic(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at,
                     last_used_at=row.last_used_at)


@router.get("", response_model=list[KeyPublic], summary="Your API keys (never the keys themselves)")
def list_keys(user: ApiUser, db: DbDep) -> list[KeyPublic]:
    return [_public(r) for r in accounts.list_api_keys(db, user)]


@router.post("", response_model=KeyCreated, status_code=201, summary="Create an API key")
def create_key(body: KeyCreate, user: ApiUser, db: DbDep) -> KeyCreated:
    row, key = accounts.create_api_key(db, user, body.name)
    return KeyCreated(**_public(row).model_dump(), key=key)


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
def revoke_key(key_id: str, user: ApiUser, db: DbDep) -> Response:
    accounts.revoke_api_key(db, user, key_id)
    return Response(status_code=204)
