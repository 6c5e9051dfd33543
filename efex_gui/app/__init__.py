"""The Qt application: orchestration only (controller, worker, preferences, main)."""
