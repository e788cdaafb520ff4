"""A local stand-in for paid model providers, speaking their documented wire formats."""

from tests.fake_upstream.server import FakeUpstream, Fault

__all__ = ["FakeUpstream", "Fault"]
