"""The exit statuses of SPEC 4, one place for the dispatcher and every command module."""

EXIT_OK = 0  # done
EXIT_FAILED = 1  # the cycle failed (nothing recorded), or a check failed
EXIT_CONFIG = 2  # configuration error: one line says what to fix
EXIT_DEGRADED = 3  # recorded, but rows were skipped
EXIT_LOCKED = 4  # another instance holds the lock (not a configuration error)
