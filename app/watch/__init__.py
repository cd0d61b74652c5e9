"""The watch: one poll cycle, the watchers that run around it, and the service that repeats it.

    service.Service ── every POLL_INTERVAL_SECONDS, leader only (waits: stop flag + lock)
      └─ poll.Poller.poll_once()
           fetch (flinks) ─ recall the last state (recall) ─ diff (core) ─ record (db)
           ├─ stuckwatch: reminders due become `stuck` events of this poll
           ├─ deliver the outbox to every channel (notify), paced, quiet hours held
           └─ selfwatch: blind / recovered / failing channels, heartbeats
      ├─ boardwatch: the Slack board edited after a cycle that changed it
      └─ digestwatch: the digest at DIGEST_SCHEDULE, or once if one was missed

The stages it calls (flinks, db, notify, web, core) never import it; poll_ports are the small
Protocols it holds them by, poll_logs its log lines, memory the collector's pause and release.
"""
