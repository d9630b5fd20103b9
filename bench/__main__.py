"""``python -m bench [--quick] [--profile]``: run the bench and print its report."""

from bench.run import main

raise SystemExit(main())
