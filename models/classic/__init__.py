"""Embedded CPU backends: no weights, any machine."""
