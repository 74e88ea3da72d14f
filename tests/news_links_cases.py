"""A labelled set for linking news stories to the decisions they report.

Written for these tests (invented councils' cases, invented stories): decisions in the shape the
store holds them, stories as local papers write them, each story labelled with the decision it
really reports (or None). It holds the hard cases on purpose: two decisions ordering the same
sum, stories about the same council that report no decision, a story that quotes another
reference, a story written before the decision, successor councils, a syndicated copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from alerts.news_links import DecisionFacts


def _p(*pounds: int) -> frozenset[int]:
    """Payments in pence, plus their total (stored decisions carry both)."""
    pence = [p * 100 for p in pounds]
    return frozenset([*pence, sum(pence)])


DECISIONS = (
    DecisionFacts(
        "D1", "24 011 307", frozenset({"norfolk"}), date(2026, 3, 10), "upheld",
        "Children's care services > Other", _p(950), frozenset({"Mrs K"}),
    ),
    DecisionFacts(
        "D2", "24 015 882", frozenset({"norfolk"}), date(2026, 3, 18), "upheld",
        "Education > Special educational needs", _p(1500, 300), frozenset({"Ms D"}),
    ),
    DecisionFacts(
        "D3", "24 019 004", frozenset({"norfolk"}), date(2026, 3, 20), "upheld",
        "Adult care services > Charging", _p(950), frozenset({"Mr H"}),
    ),
    DecisionFacts(
        "D4", "25 002 118", frozenset({"cumberland"}), date(2026, 4, 2), "upheld",
        "Children's care services > Child protection", _p(600, 150, 150), frozenset({"Mr T"}),
    ),
    DecisionFacts(
        "D5", "25 004 551", frozenset({"cumberland"}), date(2026, 4, 15), "not upheld",
        "Planning > Enforcement", frozenset(), frozenset({"Mr W"}),
    ),
    DecisionFacts(
        "D6", "25 006 020", frozenset({"westmorland-and-furness"}), date(2026, 5, 1), "upheld",
        "Housing > Homelessness", _p(250), frozenset({"Miss R"}),
    ),
    DecisionFacts(
        "D7", "24 020 777", frozenset({"norfolk"}), date(2026, 4, 1), "upheld",
        "Environment and regulation > Refuse and recycling", _p(100), frozenset({"Mr J"}),
    ),
    DecisionFacts(
        "D8", "25 001 400", frozenset({"suffolk"}), date(2026, 2, 11), "upheld",
        "Benefits and tax > Council tax", _p(150), frozenset({"Mrs A"}),
    ),
    DecisionFacts(
        "D9", "24 022 310", frozenset({"norfolk"}), date(2026, 4, 20),
        "closed after initial enquiries", "Highways and transport > Parking", frozenset(),
        frozenset(),
    ),
    DecisionFacts(
        "D10", "25 003 090", frozenset({"north-norfolk"}), date(2026, 3, 25), "upheld",
        "Planning > Planning applications", _p(500), frozenset({"Mr P"}),
    ),
)


@dataclass(frozen=True)
class Case:
    id: str
    councils: frozenset[str]
    published: date
    text: str
    reports: str | None  # the decision the story really reports


CASES = (
    Case("S1", frozenset({"norfolk"}), date(2026, 3, 24), """
Norfolk mother to get £950 after ombudsman criticises children's services.
A watchdog has told Norfolk County Council to apologise to a mother and pay her £950 after
social workers failed to pass on a safeguarding assessment for almost a year. The Local
Government and Social Care Ombudsman said the woman, referred to as Mrs K, was left without
the early help she had been promised for her children. The council said it accepted the
findings in full.""", "D1"),
    Case("S2", frozenset({"norfolk"}), date(2026, 4, 2), """
Council to pay £1,800 over delays to boy's education plan.
Norfolk County Council took eleven months to finalise an education, health and care plan for a
boy with autism, the ombudsman has found. His mother, Ms D, will receive £1,500 for the lost
special educational needs provision and a further £300 for her time and trouble. A council
spokesperson said the SEND service had recruited more case officers.""", "D2"),
    Case("S3", frozenset({"norfolk"}), date(2026, 4, 1), """
Pensioner overcharged for care home fees wins apology.
An elderly man was wrongly charged for his residential care for seven months, the Local
Government and Social Care Ombudsman has ruled. Norfolk County Council has agreed to refund the
charges and pay Mr H £950. The ombudsman said the council's financial assessment had ignored
the value of his care package.""", "D3"),
    Case("S4", frozenset({"cumberland"}), date(2026, 4, 20), """
Cumberland Council ordered to pay father and daughters after child protection failings.
A father will receive £600 and each of his two daughters £150 after the ombudsman found
Cumberland Council let a child protection investigation drift for months. The report, which
refers to the man as Mr T, said social workers missed two planned visits. The council said
lessons had been learned.""", "D4"),
    Case("S5", frozenset({"westmorland-and-furness"}), date(2026, 5, 12), """
Homeless woman left in unsuitable B&B, watchdog finds.
Westmorland and Furness Council kept a young woman in bed and breakfast accommodation for
fourteen weeks, far longer than the law allows, the Local Government and Social Care Ombudsman
said. Miss R is to receive £250. The council's housing team said temporary accommodation in
the district was under severe pressure.""", "D6"),
    Case("S6", frozenset({"norfolk"}), date(2026, 4, 10), """
Resident gets £100 after missed bin collections went on for months.
Norfolk County Council will pay a resident £100 after the ombudsman upheld a complaint about
repeated missed waste collections and the council's slow replies. Recycling bins on the street
were left unemptied eleven times in one autumn.""", "D7"),
    Case("S7", frozenset({"north-norfolk"}), date(2026, 4, 8), """
Planning watchdog criticises North Norfolk over extension approval.
The ombudsman's decision (reference 25 003 090) says North Norfolk District Council failed to
consider the impact of a neighbour's two-storey extension on a family's garden. The council
must pay £500 and review how its planning officers record their reasons.""", "D10"),
    Case("S8", frozenset({"suffolk"}), date(2026, 3, 1), """
Council tax error cost widow her discount, ombudsman says.
Suffolk County Council removed a single person discount from a widow's council tax bill by
mistake and then chased her for arrears, the Local Government and Social Care Ombudsman found.
It has apologised to Mrs A and will pay her £150.""", "D8"),
    Case("S9", frozenset({"cumberland"}), date(2026, 4, 28), """
Ombudsman backs Cumberland Council over neighbour's workshop.
A man who complained that Cumberland Council had failed to take planning enforcement action
against his neighbour's workshop has had his complaint rejected. The ombudsman found no fault in
how officers investigated, and said Mr W had been kept informed throughout.""", "D5"),
    Case("S10", frozenset({"norfolk"}), date(2026, 4, 3), """
Boy's family wins £1,800 after Norfolk delays to EHC plan.
By a Local Democracy Reporter. Norfolk County Council has been told by the ombudsman to pay
£1,800 to a family after delays to a boy's education, health and care plan. The watchdog said
the council's special educational needs team missed every legal deadline.""", "D2"),
    Case("S11", frozenset({"cumberland"}), date(2026, 4, 22), """
Father awarded £600 over drifting child protection inquiry.
The ombudsman has criticised Cumberland Council's children's services for letting a child
protection inquiry run for months without a plan. The council will pay the father £600 and has
promised training for its social workers.""", "D4"),
    Case("S12", frozenset({"norfolk"}), date(2026, 6, 18), """
Norfolk children's services: one year on from the ombudsman's criticism.
In March the ombudsman ordered Norfolk County Council to pay Mrs K £950 after her family was
left without early help. Councillors this week heard that the children's services backlog has
halved since then.""", "D1"),
    # Stories about the same councils that report no stored decision.
    Case("N1", frozenset({"norfolk"}), date(2026, 3, 26), """
Norfolk County Council agrees £1.2m for road repairs.
Councillors approved an extra £1.2m for pothole repairs at a cabinet meeting on Monday, with
work starting in the spring. The opposition said the sum was far short of the backlog.""",
         None),
    Case("N2", frozenset({"norfolk"}), date(2026, 4, 5), """
Family of disabled man win £2,000 from council after ombudsman ruling.
Norfolk County Council must pay £2,000 to a disabled man's family after the ombudsman found it
cut his care package without an assessment. The man, Mr Z, had been left without support for
months.""", None),
    Case("N3", frozenset({"norfolk"}), date(2026, 4, 25), """
Ombudsman upholds most complaints about Norfolk, annual figures show.
The Local Government and Social Care Ombudsman upheld 78 per cent of the complaints it
investigated about Norfolk County Council last year, slightly above the national average. The
most complaints concerned education and children's services.""", None),
    Case("N4", frozenset({"norfolk"}), date(2026, 2, 1), """
Mother takes complaint about children's services to ombudsman.
A mother says she will take her complaint about Norfolk County Council's children's services to
the ombudsman after waiting a year for help. The woman, who asked to be called Mrs K, said she
wanted £950 back that she had spent on private support.""", None),
    Case("N5", frozenset({"cumberland"}), date(2026, 4, 21), """
Landlord fined £600 after court case brought by Cumberland Council.
A landlord has been fined £600 by magistrates after Cumberland Council prosecuted him for
failing to license a house in multiple occupation.""", None),
    Case("N6", frozenset({"norfolk"}), date(2026, 3, 30), """
Norfolk council told to pay £950 by ombudsman.
Norfolk County Council has been told to pay £950 after the ombudsman upheld a complaint
against it. The council said it would comply with the ruling.""", "D1"),
    Case("N7", frozenset(), date(2026, 4, 2), """
Housing association ordered to pay £1,500 over damp flat.
The Housing Ombudsman found severe maladministration by a housing association in its handling
of damp and mould in a family's flat in Norwich, and ordered it to pay £1,500.""", None),
    Case("N8", frozenset({"norfolk"}), date(2026, 4, 6), """
Watchdog ruling 24 011 999: council to pay £950.
In decision 24 011 999 the ombudsman told Norfolk County Council to pay a man £950 after it
lost his application for a blue badge.""", None),
    Case("N9", frozenset({"suffolk"}), date(2026, 3, 3), """
Suffolk man gets £150 after council tax bailiff blunder.
The ombudsman has told Suffolk County Council to pay Mr B £150 after bailiffs were sent for a
council tax debt he had already paid.""", None),
)
