"""jiesu (接诉即办): a city's 12345 citizen-request platform."""
