"""`python -m app` is the same as the `flinkswatch` command."""

from app.cli.commands import main

raise SystemExit(main())
