"""Working time: the Vietnamese public-service calendar with its announced overrides, calendar
periods (month, quarter, 6 and 9 months, year), the named timer durations admins change, and
the functions (`deadline`, `reminder`...) that diagram timers call to count working days."""
