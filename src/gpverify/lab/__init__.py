"""The simulated lab: a scale-out GP farm on loopback, for the demo and for the suite's own tests."""
