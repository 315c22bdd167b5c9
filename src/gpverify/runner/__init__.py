"""The upgrade runner: phases, gates and steps, resumable."""
