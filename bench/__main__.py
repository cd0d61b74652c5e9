"""`python -m bench`: see bench/cli.py (kept apart so multiprocessing can import its children)."""

from bench.cli import main

raise SystemExit(main())
