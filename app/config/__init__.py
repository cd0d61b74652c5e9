"""What can be configured and how it is checked: the typed Settings (settings), the parsed types
of their values (types), where they come from (sources: the environment, `.env`, `*_FILE`
secrets), which channels they turn on (destinations) and the digest's cron (schedule).

It stands on the ground only (app.domain, app.errors, the pure rules of app.core): no stage
imports are allowed here, so every stage and command can read the settings.
"""
