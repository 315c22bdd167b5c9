"""The nightly audit: unattended runs, history, baselines, waivers."""
