"""An intake on a running HocSo server, from creation to its report (the intakes' "Must show").

    hocso db upgrade && hocso demo seed     # prints the demo ministry admin's e-mail and password
    hocso clients create --name "Lớp học trực tiếp" --scopes completions:write   # prints id and secret
    hocso serve
    python docs/examples/intake_walkthrough.py http://127.0.0.1:8000 ADMIN_EMAIL ADMIN_PASSWORD CLIENT_ID SECRET

1. Nine officials of Thái Nguyên (19) register: five of a commune People's Committee, four of a provincial
   department.
2. The ministry admin creates an intake of Thái Nguyên for the sample course and uploads the members as a CSV
   (with one mistyped phone, reported on its line while the others are added).
3. An in-person class reports six completions through the partner API (completions:write).
4. A member who has not enrolled sees the assigned course and its deadline in /api/v1/me/enrollments.
5. The report shows "completed / assigned" and the rate, per agency; the CSV is saved for Excel.
"""

import asyncio
import random
import sys
from datetime import UTC, datetime, timedelta

import httpx

PASSWORD = "hoc-so-moi-ngay-2026"
COURSE = "ky-nang-so-co-ban"
COMMUNE, DEPARTMENT = "UBND xã Phú Lương", "Sở Nội vụ tỉnh Thái Nguyên"


async def register(client: httpx.AsyncClient, name: str, agency: str) -> str:
    phone = "091" + "".join(random.choices("0123456789", k=7))
    r = await client.post("/api/v1/auth/register", json={
        "phone": phone, "password": PASSWORD, "full_name": name, "province_code": "19",
        "audience": "official", "agency": agency})
    r.raise_for_status()
    return phone


async def sign_in(client: httpx.AsyncClient, **form: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", data=form)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def main(base_url: str, admin_email: str, admin_password: str, client_id: str, secret: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        print("1. Nine officials of Thái Nguyên register")
        people = [(f"Cán bộ xã {n}", COMMUNE) for n in range(1, 6)] + [
            (f"Chuyên viên {n}", DEPARTMENT) for n in range(1, 5)]
        phones = [await register(client, name, agency) for name, agency in people]

        print("2. The admin creates an intake and uploads its members")
        admin = await sign_in(client, grant_type="password", username=admin_email, password=admin_password)
        opens = datetime.now(UTC)
        r = await client.post("/api/v1/intakes", headers=admin, json={
            "name": "Đợt 1/2026 – cán bộ Thái Nguyên", "province_code": "19", "courses": [COURSE],
            "opens_at": opens.isoformat(), "deadline": (opens + timedelta(days=45)).isoformat()})
        r.raise_for_status()
        intake = r.json()
        rows = [f"{name},{phone}" for (name, _), phone in zip(people, phones, strict=True)] + ["Gõ nhầm,0912"]
        csv = "Họ và tên,Số điện thoại\n" + "\n".join(rows) + "\n"
        r = await client.post(f"/api/v1/intakes/{intake['id']}/members", headers=admin,
                              files={"file": ("hoc-vien.csv", ("\ufeff" + csv).encode(), "text/csv")})
        r.raise_for_status()
        upload = r.json()
        print(f"   added {upload['added']}, rejected {upload['rejected']}: {upload['errors']}")

        print("3. An in-person class reports six completions")
        partner = await sign_in(client, grant_type="client_credentials", client_id=client_id, client_secret=secret)
        finished = [0, 1, 2, 5, 6, 7]  # three of each agency
        r = await client.post("/api/v1/completions/batch", headers=partner, json={"items": [{
            "phone": phones[n], "full_name": people[n][0], "audience": "official", "province_code": "19",
            "course": COURSE, "external_ref": f"lop-pl-{intake['id'][:8]}-{n}", "agency": people[n][1],
        } for n in finished]})
        r.raise_for_status()
        print(f"   created {r.json()['created']}")

        print("4. A member who has not started sees the assignment")
        member = await sign_in(client, grant_type="password", username=phones[3], password=PASSWORD)
        item = (await client.get("/api/v1/me/enrollments", headers=member)).json()["items"][0]
        print(f"   {item['course']['slug']}: enrolled={item['enrolled']}, "
              f"intake “{item['assignment']['intake_name']}”, deadline {item['assignment']['deadline']}")

        print("5. The report")
        report = (await client.get(f"/api/v1/intakes/{intake['id']}/report", headers=admin)).json()
        print(f"   all: {report['completed_of_assigned']} (rate {report['completion_rate']})")
        for agency in report["by_agency"]:
            print(f"   {agency['agency']}: {agency['completed_of_assigned']}")
        r = await client.get(f"/api/v1/intakes/{intake['id']}/report.csv", headers=admin)
        with open("bao-cao-dot-hoc.csv", "wb") as out:
            out.write(r.content)
        print("   CSV for Excel saved as bao-cao-dot-hoc.csv")


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
