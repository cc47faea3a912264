"""The Python API: one function per stage, exported lazily from `cvtool` (see its docstring).

`params` turns command-line style arguments into library values (once, for the API and the
command line alike); `results` holds the small result objects the stage functions return.
"""
