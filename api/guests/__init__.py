"""`/api/v1/admin/guests`: the venue's guest profiles, for its staff."""
