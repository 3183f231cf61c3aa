from callcue.cli import main

raise SystemExit(main())
