"""Reports: detection-rate and memorization studies (built in a later step)."""
