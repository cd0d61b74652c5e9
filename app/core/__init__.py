"""The pure rules: values and `now` in, decisions out; no I/O library is imported here."""
