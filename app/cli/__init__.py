"""The `flinkswatch` command (SPEC 4): parsing, the commands, `check` and their output."""
