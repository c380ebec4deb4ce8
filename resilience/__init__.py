"""How every process rides out PostgreSQL and Redis going away: which errors mean a server
is unavailable (`resilience.faults`) and how long to wait before trying again
(`resilience.backoff`)."""
