"""coldset: firearm safety on film and TV sets, enforced and provable."""

__version__ = "0.1.0"
