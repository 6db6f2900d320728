"""End-to-end tests: the system as a user starts it, driven from the outside."""
