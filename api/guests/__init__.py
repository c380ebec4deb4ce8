"""Guests as a venue's staff see them."""
