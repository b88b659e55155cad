import sys

from cardigan_app.launcher import main

sys.exit(main())
