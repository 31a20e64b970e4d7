"""`python -m dagrad` runs the same CLI as the `dagrad` console script."""

from dagrad.cli import main

raise SystemExit(main())
