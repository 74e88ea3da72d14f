"""The web pages: subscribe, confirm, manage, unsubscribe, browse, feeds, health, metrics.

``create_app(runtime)`` returns the Starlette app; ``councilwatch web`` serves it with uvicorn,
and the service can mount the same app in-process.
"""

from councilwatch.web.app import create_app

__all__ = ["create_app"]
