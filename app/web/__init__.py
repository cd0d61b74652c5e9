"""The HTTP server of `run`: health, readiness and metrics; `python -m app.web` probes it."""
