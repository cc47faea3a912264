"""`python -m cvtool` (also what `torchrun -m cvtool` runs)."""

from cvtool.cli.main import main

if __name__ == "__main__":
    main()
