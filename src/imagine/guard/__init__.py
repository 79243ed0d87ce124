"""The guard stage."""
