"""Intakes ("đợt học"): a province assigns courses to a list of learners with a deadline."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, id_field


class Cohort(SQLModel, table=True):
    __tablename__ = "cohort"

    id: uuid.UUID = id_field()
    province_code: str = Field(max_length=2, index=True)
    name: str = Field(max_length=300)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    deadline: datetime = Field(sa_type=UTCDateTime)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()


class CohortCourse(SQLModel, table=True):
    __tablename__ = "cohort_course"

    cohort_id: uuid.UUID = Field(foreign_key="cohort.id", primary_key=True, ondelete="CASCADE")
    course_id: uuid.UUID = Field(foreign_key="course.id", primary_key=True, ondelete="CASCADE")


class CohortMember(SQLModel, table=True):
    __tablename__ = "cohort_member"

    cohort_id: uuid.UUID = Field(foreign_key="cohort.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, index=True, ondelete="CASCADE")
    added_at: datetime = created_at_field()
