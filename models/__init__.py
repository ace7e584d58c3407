"""drplan models: what a platform is and what must always hold."""
