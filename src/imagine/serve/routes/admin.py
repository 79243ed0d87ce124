"""Issue 7 routes (admin); being written."""

from fastapi import APIRouter

router = APIRouter()
