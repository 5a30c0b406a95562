"""The streaming edge: faust app, agents, topic wiring, metrics and health pages."""
