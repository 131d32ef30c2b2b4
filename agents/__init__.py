"""Research, analysis and personalization agents, their domain model and LLM providers."""
