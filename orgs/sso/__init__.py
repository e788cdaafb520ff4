"""Sign-in through the company's identity provider and mapping its claims to the org chart."""
