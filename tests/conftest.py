"""Shared fixtures. Each area's fixtures live in their own module, registered here."""

pytest_plugins: list[str] = ["tests.dbfixtures", "tests.testweb", "tests.smtpd"]
