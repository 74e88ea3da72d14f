"""Councils as entities: the register, the recogniser and the mySociety importer.

Register.builtin()                      the register shipped with the package
register.lookup("Cumbria council")      -> Council (or UnknownCouncilError with suggestions)
register.expand({"cumbria"})            -> successors and, for a county, its districts
find_councils(text)                     -> [Mention] (see ``recognise`` for precision rules)
classify_organisation(name)             -> OrgMatch(kind, council_id)
merge(register, import_mysociety(csv))  -> (Register, MergeReport)
"""

from .importer import MergeReport, import_mysociety, merge
from .names import canonical
from .recognise import Mention, OrgMatch, Recogniser, classify_organisation, find_councils
from .register import Council, Register

__all__ = [
    "Council",
    "Mention",
    "MergeReport",
    "OrgMatch",
    "Recogniser",
    "Register",
    "canonical",
    "classify_organisation",
    "find_councils",
    "import_mysociety",
    "merge",
]
