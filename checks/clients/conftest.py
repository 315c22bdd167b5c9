"""Client machine fixtures: the sign-in page check applies to every era; the Silverlight trust checks skip
themselves on HTML-era targets (test_silverlight_trust.py)."""
