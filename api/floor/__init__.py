"""The floor: tables and their blocks, layouts, the venue's hours, slots and closures,
and the live status feed."""
