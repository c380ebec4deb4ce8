"""Bookings: availability, guests' bookings, and staff's view of every booking."""
