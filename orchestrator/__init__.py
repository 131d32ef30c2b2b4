"""The workflow runtime: pipeline declaration, durable store, policies, CLI and HTTP service."""
