"""Setting up an install: ``coldset init`` (and, later, ``serve`` and ``demo``)."""
