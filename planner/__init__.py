"""planner: plan the move of LLM API traffic to self-hosted open-weight models."""

__version__ = "0.1.0"
