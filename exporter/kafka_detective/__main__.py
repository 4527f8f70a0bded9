from kafka_detective.cli import main

raise SystemExit(main())
