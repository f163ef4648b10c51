"""rtc's benchmark harness: a synthetic fleet-scale catalog and the runs that time it."""
