"""Reports: the dashboard and booking reports, the event log, and the floor as it stood
at an earlier instant."""
