from neurolearn.cli import main

raise SystemExit(main())
