"""Walk three learners through the sample course on a running HocSo server (the learning flow's "Must show").

    hocso courses import examples/ky-nang-so-co-ban.zip --publish && hocso serve
    python docs/examples/learning_walkthrough.py http://127.0.0.1:8000

1. A learner who sends one heartbeat claiming the whole video right after starting gets no credit and no
   completion (409 lists what is missing).
2. A scripted learner (register → enroll → heartbeats → document → pass the quiz) is completed automatically
   when the quiz is passed; the completion endpoint then answers 200 with the same record every time, and
   /api/v1/stats/national moves by exactly one.
3. A third learner's last requirement (the quiz submission) races six completion calls: one completion.
"""

import asyncio
import random
import sys

import httpx

PASSWORD = "hoc-so-moi-ngay-2026"
COURSE = "ky-nang-so-co-ban"
# What a learner who read the course would answer, by a fragment of each question's prompt.
RIGHT = {
    "mật khẩu nào": ["Hoa-Sen-Nở-Sớm-2026!"],
    "dấu hiệu": ["Yêu cầu chuyển tiền gấp", "Đường link lạ không thuộc tên miền .gov.vn"],
    "mã otp": ["Sai"],
    "định danh điện tử": "vneid",
    "tên miền nào": [".gov.vn"],
    "xác thực hai lớp": ["Đúng"],
}


async def new_learner(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    phone = "091" + "".join(random.choices("0123456789", k=7))
    r = await client.post("/api/v1/auth/register", json={
        "phone": phone, "password": PASSWORD, "full_name": name, "province_code": "19",
        "audience": "citizen"})
    r.raise_for_status()
    token = (await client.post("/api/v1/auth/token", data={
        "grant_type": "password", "username": phone, "password": PASSWORD})).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    r = await client.post(f"/api/v1/courses/{COURSE}/enrollments", headers=headers)
    print(f"  {name}: registered {phone}, enrolled -> {r.status_code}")
    return headers


async def lessons(client: httpx.AsyncClient) -> dict[str, dict]:
    outline = (await client.get(f"/api/v1/courses/{COURSE}")).json()
    return {lesson["kind"]: lesson for module in outline["modules"] for lesson in module["lessons"]}


async def watch(client: httpx.AsyncClient, headers: dict, video: dict) -> dict:
    url, duration = f"/api/v1/lessons/{video['id']}/progress", video["duration_s"]
    await client.post(url, headers=headers, json={"event_id": "start", "position_s": 0, "intervals": []})
    position, n, state = 0.0, 0, {}
    while not state.get("completed"):
        await asyncio.sleep(1.0)  # real playback at 2x: 2 s of video per second of wall clock
        n += 1
        end = min(duration, position + 2)
        state = (await client.post(url, headers=headers, json={
            "event_id": f"hb-{n}", "position_s": end, "intervals": [[position, end]], "playback_rate": 2.0,
        })).json()
        position = end
    print(f"  watched {duration:g} s video in {n} heartbeats: coverage {state['coverage']}")
    return state


async def answers_for(attempt: dict) -> list[dict]:
    answers = []
    for question in attempt["questions"]:
        right = next(v for k, v in RIGHT.items() if k in question["prompt"].casefold())
        if isinstance(right, str):
            answers.append({"question_id": question["id"], "text": right})
        else:
            answers.append({"question_id": question["id"],
                            "choice_ids": [c["id"] for c in question["choices"] if c["text"] in right]})
    return answers


async def national(client: httpx.AsyncClient) -> int:
    return (await client.get("/api/v1/stats/national")).json()["audiences"]["citizen"]["completions"]


async def main(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        by_kind = await lessons(client)
        video, document, quiz = by_kind["video"], by_kind["document"], by_kind["quiz"]
        start = await national(client)
        print(f"national citizen completions before: {start}")

        print("1. one heartbeat claiming [[0, duration]] right after starting")
        cheat = await new_learner(client, "Trần Văn Gian")
        r = await client.post(f"/api/v1/lessons/{video['id']}/progress", headers=cheat, json={
            "event_id": "whole", "position_s": video["duration_s"], "intervals": [[0, video["duration_s"]]],
            "playback_rate": 1.0})
        state = r.json()
        print(f"  heartbeat -> {r.status_code} coverage={state['coverage']} completed={state['completed']}")
        r = await client.post(f"/api/v1/courses/{COURSE}/completion", headers=cheat)
        unmet = [u["lesson_key"] for u in r.json()["unmet_requirements"]]
        print(f"  completion -> {r.status_code} unmet: {unmet}")

        print("2. scripted learner: heartbeats, document, quiz")
        learner = await new_learner(client, "Nguyễn Thị Hồng Nhung")
        await watch(client, learner, video)
        r = await client.post(f"/api/v1/lessons/{document['id']}/progress", headers=learner,
                              json={"event_id": "read", "viewed": True})
        print(f"  document viewed -> completed={r.json()['completed']}")
        start_quiz = f"/api/v1/quizzes/{quiz['quiz']['quiz_id']}/attempts"
        attempt = (await client.post(start_quiz, headers=learner)).json()
        graded = (await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=learner,
                                    json={"answers": await answers_for(attempt)})).json()
        print(f"  quiz submitted: score={graded['score']} passed={graded['passed']}")
        records = []
        for _ in range(3):
            r = await client.post(f"/api/v1/courses/{COURSE}/completion", headers=learner)
            records.append(r.json())
            print(f"  completion -> {r.status_code} id={r.json()['id']} audience={r.json()['audience']} "
                  f"province={r.json()['province_code']} certificate={r.json()['certificate']}")
        print(f"  same record every time: {all(rec == records[0] for rec in records)}")
        for _ in range(20):  # the certificate is issued by the job worker shortly after
            certificate = (await client.post(f"/api/v1/courses/{COURSE}/completion",
                                             headers=learner)).json()["certificate"]
            if certificate:
                break
            await asyncio.sleep(0.5)
        print(f"  certificate link once issued: {certificate}")
        after = await national(client)
        print(f"national citizen completions: {start} -> {after} (moved by {after - start})")

        print("3. last requirement racing six completion calls")
        racer = await new_learner(client, "Lê Minh Tuấn")
        await watch(client, racer, video)
        await client.post(f"/api/v1/lessons/{document['id']}/progress", headers=racer,
                          json={"event_id": "read", "viewed": True})
        attempt = (await client.post(start_quiz, headers=racer)).json()
        await client.put(f"/api/v1/attempts/{attempt['id']}/answers", headers=racer,
                         json={"answers": await answers_for(attempt)})
        submit = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=racer)

        async def complete_after(delay: float) -> httpx.Response:
            await asyncio.sleep(delay)
            return await client.post(f"/api/v1/courses/{COURSE}/completion", headers=racer)

        calls = [complete_after(0.02 * i) for i in range(6)]  # spread around the submission's commit
        graded, *answers = await asyncio.gather(submit, *calls)
        print(f"  submit -> {graded.status_code} passed={graded.json()['passed']}; completion calls -> "
              f"{[a.status_code for a in answers]}")
        ids = {a.json()["id"] for a in answers if a.status_code < 300}
        final = (await client.post(f"/api/v1/courses/{COURSE}/completion", headers=racer)).json()["id"]
        print(f"  distinct completion ids seen: {ids or '{}'}; the record now: {final}")
        end = await national(client)
        print(f"national citizen completions: {start} -> {end} (moved by {end - start} for 3 learners)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
