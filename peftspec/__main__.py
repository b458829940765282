from peftspec.cli import main

raise SystemExit(main())
