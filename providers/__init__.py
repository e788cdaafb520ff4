"""The AI gateway: every model call of the platform goes through here."""
