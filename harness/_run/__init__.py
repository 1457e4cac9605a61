"""Running cases: options and settings, the target, requests, results, the runner and the session."""
