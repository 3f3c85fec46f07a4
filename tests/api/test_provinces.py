async def test_lists_the_34_current_units(client):
    r = await client.get("/api/v1/provinces")
    assert r.status_code == 200
    units = r.json()
    assert len(units) == 34 and all(u["current"] for u in units)
    assert {"code": "19", "name": "Thái Nguyên"}.items() <= next(u for u in units if u["code"] == "19").items()


async def test_include_former_adds_the_63_former_units_with_successors(client):
    units = (await client.get("/api/v1/provinces", params={"include_former": "true"})).json()
    former = [u for u in units if not u["current"]]
    assert len(former) == 63
    bac_kan = next(u for u in former if u["code"] == "06")
    assert (bac_kan["name"], bac_kan["successor_code"]) == ("Bắc Kạn", "19")
    current_codes = {u["code"] for u in units if u["current"]}
    assert all(u["successor_code"] in current_codes for u in former)


async def test_bad_query_value_names_the_field(client):
    r = await client.get("/api/v1/provinces", params={"include_former": "perhaps"},
                         headers={"Accept-Language": "en"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "include_former", "message": "Must be true or false."}]
