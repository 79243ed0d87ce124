"""The platform stage."""
