"""``python -m insurcrm``: the same command line as the ``insurcrm`` script."""

from insurcrm.cli import main

if __name__ == "__main__":
    main()
