"""The HTTP layer: thin Litestar routes that decode, call a service and encode. Health and metrics for now."""
