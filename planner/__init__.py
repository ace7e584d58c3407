"""drplan planner: solver models, checks, scenarios and the CLI."""
