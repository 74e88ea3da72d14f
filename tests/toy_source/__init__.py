"""A toy source, registered the way a real one is (a package with ``config`` and ``source``
modules, one ``scraper.sources.registry`` entry), to prove that adding a source needs nothing
else: tests/test_toy_source.py fetches, parses, lists and digests it.

Its site (:mod:`.site`) serves one JSON listing of decisions at ``<base_url>/decisions.json``.
"""
