"""The armorer's tablet: server-rendered pages over the custody service.

``create_app(install, demo=..., clock=...)`` builds everything; see docs/web.md.
"""

from coldset.web.app import create_app

__all__ = ["create_app"]
