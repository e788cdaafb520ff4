"""The OpenAI-compatible HTTP API (contract 5), served beside Django."""
