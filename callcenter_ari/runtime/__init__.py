"""The async runtime: one task tree, a task per live call, the executor that turns commands into ARI requests,
timers on an injectable clock, and the long-running services (ACD, store flusher, HTTP). ``app.Application`` is
one tenant's call center; ``platform.Platform`` runs one or several of them behind one HTTP API."""
