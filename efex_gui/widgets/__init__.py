"""Qt views: each talks to the controller, never to core internals it mutates."""
