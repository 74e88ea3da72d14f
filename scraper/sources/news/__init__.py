"""Local news as a registered source: one recorded run per feed (the configured ones, then the
papers covering councils subscribers follow), stories clustered after each run.

The feed and article parsers are ``scraper.news``; this package is what the registry asks for:
the ``[sources.news]`` settings (:mod:`.config`), the source (:mod:`.source`) and its crawl of
one feed (:mod:`.crawl`), and ``sources check news`` (:mod:`.check`).
"""
