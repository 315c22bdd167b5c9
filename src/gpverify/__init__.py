"""gpverify: checks for the Dynamics GP web client scale-out upgrade."""

__version__ = "0.1.0"
