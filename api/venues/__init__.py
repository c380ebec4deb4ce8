"""Venues and who works there: the public directory, opening and changing venues, staff.

`directory` (anyone), `admin` (opening a venue: admins), `details` (reading and changing
one venue: its managers and admins), `staff` (granting and revoking roles at one venue:
its managers and admins). `access` holds the guard those last two share and the shapes
they answer with.
"""
