"""Provincial units: the 34 in force since 1 July 2025 and the 63 former ones that each point to a successor."""

from datetime import date

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

REFORM_DATE = date(2025, 7, 1)


class AdminUnit(SQLModel, table=True):
    __tablename__ = "admin_unit"
    __table_args__ = (UniqueConstraint("code", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    # A current unit kept the code of one of the units it absorbed, so codes alone repeat across eras.
    code: str = Field(max_length=2, index=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)  # city | province
    valid_from: date | None = None
    valid_to: date | None = None
    successor_code: str | None = Field(default=None, max_length=2)


class ProvincePublic(BaseModel):
    code: str
    name: str
    kind: str
    current: bool
    valid_from: date | None = None
    valid_to: date | None = None
    successor_code: str | None = None
