"""Units below the provinces (agencies and communes), their yearly headcounts of officials, and the shapes of
completion rates and rankings.

The tree is province (`admin_unit`, a current code) → unit (`org_unit`). Headcounts come in versions: each
upload (`headcount_version`) is one province's complete list for one year, with its source and date; the
latest upload of a (province, year) is in force, earlier ones stay for the record.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField
from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field


class UnitKind(StrEnum):
    agency = "agency"  # cơ quan, đơn vị (a department, a district office, a school…)
    commune = "commune"  # xã, phường, đặc khu


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"
    __table_args__ = (UniqueConstraint("province_code", "code"),
                      Index("ix_org_unit_province_code_name_key", "province_code", "name_key"))

    id: uuid.UUID = id_field()
    province_code: str = Field(max_length=2)  # a current province
    code: str = Field(max_length=40)  # the province's own code for the unit, unique within it
    name: str = Field(max_length=200)
    # Lower-case, accent-free name: an official's free-text agency is matched to a unit by it.
    name_key: str = Field(max_length=200)
    kind: UnitKind = Field(sa_type=String(10))
    created_at: datetime = created_at_field()


class HeadcountVersion(SQLModel, table=True):
    __tablename__ = "headcount_version"
    __table_args__ = (Index("ix_headcount_version_province_code_year", "province_code", "year", "uploaded_at"),)

    id: uuid.UUID = id_field()
    province_code: str = Field(max_length=2)
    year: int
    source: str = Field(max_length=300)  # e.g. "Quyết định 123/QĐ-UBND về biên chế năm 2026"
    source_date: date
    units: int
    officials: int
    uploaded_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    uploaded_at: datetime = Field(sa_type=UTCDateTime)


class UnitHeadcount(SQLModel, table=True):
    __tablename__ = "unit_headcount"

    version_id: uuid.UUID = Field(foreign_key="headcount_version.id", primary_key=True, ondelete="CASCADE")
    unit_id: uuid.UUID = Field(foreign_key="org_unit.id", primary_key=True, index=True, ondelete="CASCADE")
    officials: int


class UnitOfficial(SQLModel, table=True):
    """The unit an official is counted under: set when they are verified, changed by their province's admins.
    (A table of its own rather than a column of user_account: adding a referencing column to that table
    would copy it on SQLite and index every account on PostgreSQL.)"""

    __tablename__ = "unit_official"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    unit_id: uuid.UUID = Field(foreign_key="org_unit.id", index=True, ondelete="CASCADE")
    attached_at: datetime = created_at_field()
    attached_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


# --- API shapes ---------------------------------------------------------------------------------------------


class UnitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"code": "XA-BANG-THANH", "name": "UBND xã Bằng Thành", "kind": "commune", "province_code": "19"}]})

    code: str = PydField(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = PydField(min_length=1, max_length=200)
    kind: UnitKind = UnitKind.agency
    province_code: str | None = PydField(default=None, min_length=2, max_length=2,
                                         description="Ministry admins: the province; default their own")


class UnitAttachment(BaseModel):
    """The unit an official is counted under (verification, or moving them later)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"unit_id": "0b6f2c1e-3a57-4a8e-9d0c-2f1e5b7a9c44"}]})

    unit_id: uuid.UUID | None = None  # None: the unit whose name is the official's agency, if exactly one


class UnitPublic(BaseModel):
    id: uuid.UUID
    province_code: str
    code: str
    name: str
    kind: UnitKind


class HeadcountVersionPublic(BaseModel):
    id: uuid.UUID
    province_code: str
    year: int
    source: str
    source_date: date
    units: int
    officials: int
    uploaded_at: datetime
    in_force: bool


class HeadcountUploadResult(BaseModel):
    version: HeadcountVersionPublic
    rows: int
    units_created: int


class UnitRate(BaseModel):
    """Officials of a unit who completed at least one course in the year, against its headcount."""

    unit_id: uuid.UUID | None = None
    code: str
    name: str
    kind: str | None = None
    province_code: str
    headcount: int | None  # None: no headcount in force for the year
    completed: int
    completion_rate: float | None  # completed ÷ headcount, 4 decimals; None without a headcount
    completion_percent: float | None  # one decimal, half up
    rank: int | None = None  # None: not ranked (headcount under the minimum, or none)


class RateTotals(BaseModel):
    headcount: int
    completed: int
    completion_rate: float | None
    completion_percent: float | None


class Ranking(BaseModel):
    year: int
    scope: str  # "national" or a province code
    by: str  # "rate" or "count"
    min_headcount: int
    as_of: datetime
    headcount_version: uuid.UUID | None = None  # a province's ranking: the headcount list in force
    totals: RateTotals
    items: list[UnitRate]
