from callcenter_ari.cli import main

raise SystemExit(main())
