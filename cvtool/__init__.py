"""cvtool: the computer-vision experiment loop as a command-line pipeline."""

__version__ = "0.1.0"
