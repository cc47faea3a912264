"""Dataset preparation and loading."""
