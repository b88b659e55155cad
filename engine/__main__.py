import sys

try:
    from engine.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while the command line is still being loaded
    print("cardigan: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
