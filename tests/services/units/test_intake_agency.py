"""An intake report groups members by the unit they are counted under where they have one, by the agency they
typed otherwise."""

from app.models.units import OrgUnit, UnitKind, UnitOfficial
from app.services.intakes.report import intake_report
from tests.factories.intakes import complete, course, make_intake, official


async def test_the_free_text_agency_becomes_the_unit_where_one_exists(session):
    basics = await course(session)
    unit = OrgUnit(province_code="19", code="SNV", name="Sở Nội vụ tỉnh Thái Nguyên", name_key="so noi vu",
                   kind=UnitKind.agency)
    session.add(unit)
    await session.flush()
    typed = [await official(session, agency) for agency in ("Sở Nội vụ", "so noi vu TN", "SNV Thái Nguyên")]
    alone = await official(session, "Ban Dân tộc")
    for member in typed:
        session.add(UnitOfficial(user_id=member.id, unit_id=unit.id))
    await session.flush()
    await complete(session, typed[0], basics)
    report = await intake_report(session, await make_intake(session, [basics], [*typed, alone]))
    assert {a.agency: (a.members, a.completed) for a in report.by_agency} == {
        "Sở Nội vụ tỉnh Thái Nguyên": (3, 1), "Ban Dân tộc": (1, 0)}
