"""The custody service: the only writer of custody state. Adapters call it; nothing else writes."""

from coldset.service.core import CustodyService
from coldset.service.result import Result

__all__ = ["CustodyService", "Result"]
