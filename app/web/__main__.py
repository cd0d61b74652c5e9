import sys

from app.web.probe import main

raise SystemExit(main(sys.argv[1:]))
