"""seed provinces: the 34 units in force since 1 July 2025 and the 63 former ones with their successors

Facts from shared/reference/provinces.csv (Resolution 202/2025/QH15), frozen here so the migration never
changes when reference files do.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFORM = date(2025, 7, 1)
LAST_DAY_BEFORE = date(2025, 6, 30)

CURRENT = [  # code, name, kind
    ('01', 'Hà Nội', 'city'),
    ('04', 'Cao Bằng', 'province'),
    ('08', 'Tuyên Quang', 'province'),
    ('11', 'Điện Biên', 'province'),
    ('12', 'Lai Châu', 'province'),
    ('14', 'Sơn La', 'province'),
    ('15', 'Lào Cai', 'province'),
    ('19', 'Thái Nguyên', 'province'),
    ('20', 'Lạng Sơn', 'province'),
    ('22', 'Quảng Ninh', 'province'),
    ('24', 'Bắc Ninh', 'province'),
    ('25', 'Phú Thọ', 'province'),
    ('31', 'Hải Phòng', 'city'),
    ('33', 'Hưng Yên', 'province'),
    ('37', 'Ninh Bình', 'province'),
    ('38', 'Thanh Hóa', 'province'),
    ('40', 'Nghệ An', 'province'),
    ('42', 'Hà Tĩnh', 'province'),
    ('44', 'Quảng Trị', 'province'),
    ('46', 'Huế', 'city'),
    ('48', 'Đà Nẵng', 'city'),
    ('51', 'Quảng Ngãi', 'province'),
    ('52', 'Gia Lai', 'province'),
    ('56', 'Khánh Hòa', 'province'),
    ('66', 'Đắk Lắk', 'province'),
    ('68', 'Lâm Đồng', 'province'),
    ('75', 'Đồng Nai', 'province'),
    ('79', 'Hồ Chí Minh', 'city'),
    ('80', 'Tây Ninh', 'province'),
    ('82', 'Đồng Tháp', 'province'),
    ('86', 'Vĩnh Long', 'province'),
    ('91', 'An Giang', 'province'),
    ('92', 'Cần Thơ', 'city'),
    ('96', 'Cà Mau', 'province'),
]

FORMER = [  # code, name, successor code
    ('01', 'Hà Nội', '01'),
    ('02', 'Hà Giang', '08'),
    ('04', 'Cao Bằng', '04'),
    ('06', 'Bắc Kạn', '19'),
    ('08', 'Tuyên Quang', '08'),
    ('10', 'Lào Cai', '15'),
    ('11', 'Điện Biên', '11'),
    ('12', 'Lai Châu', '12'),
    ('14', 'Sơn La', '14'),
    ('15', 'Yên Bái', '15'),
    ('17', 'Hòa Bình', '25'),
    ('19', 'Thái Nguyên', '19'),
    ('20', 'Lạng Sơn', '20'),
    ('22', 'Quảng Ninh', '22'),
    ('24', 'Bắc Giang', '24'),
    ('25', 'Phú Thọ', '25'),
    ('26', 'Vĩnh Phúc', '25'),
    ('27', 'Bắc Ninh', '24'),
    ('30', 'Hải Dương', '31'),
    ('31', 'Hải Phòng', '31'),
    ('33', 'Hưng Yên', '33'),
    ('34', 'Thái Bình', '33'),
    ('35', 'Hà Nam', '37'),
    ('36', 'Nam Định', '37'),
    ('37', 'Ninh Bình', '37'),
    ('38', 'Thanh Hóa', '38'),
    ('40', 'Nghệ An', '40'),
    ('42', 'Hà Tĩnh', '42'),
    ('44', 'Quảng Bình', '44'),
    ('45', 'Quảng Trị', '44'),
    ('46', 'Thừa Thiên Huế', '46'),
    ('48', 'Đà Nẵng', '48'),
    ('49', 'Quảng Nam', '48'),
    ('51', 'Quảng Ngãi', '51'),
    ('52', 'Bình Định', '52'),
    ('54', 'Phú Yên', '66'),
    ('56', 'Khánh Hòa', '56'),
    ('58', 'Ninh Thuận', '56'),
    ('60', 'Bình Thuận', '68'),
    ('62', 'Kon Tum', '51'),
    ('64', 'Gia Lai', '52'),
    ('66', 'Đắk Lắk', '66'),
    ('67', 'Đắk Nông', '68'),
    ('68', 'Lâm Đồng', '68'),
    ('70', 'Bình Phước', '75'),
    ('72', 'Tây Ninh', '80'),
    ('74', 'Bình Dương', '79'),
    ('75', 'Đồng Nai', '75'),
    ('77', 'Bà Rịa - Vũng Tàu', '79'),
    ('79', 'Hồ Chí Minh', '79'),
    ('80', 'Long An', '80'),
    ('82', 'Tiền Giang', '82'),
    ('83', 'Bến Tre', '86'),
    ('84', 'Trà Vinh', '86'),
    ('86', 'Vĩnh Long', '86'),
    ('87', 'Đồng Tháp', '82'),
    ('89', 'An Giang', '91'),
    ('91', 'Kiên Giang', '91'),
    ('92', 'Cần Thơ', '92'),
    ('93', 'Hậu Giang', '92'),
    ('94', 'Sóc Trăng', '92'),
    ('95', 'Bạc Liêu', '96'),
    ('96', 'Cà Mau', '96'),
]

admin_unit = sa.table(
    "admin_unit",
    sa.column("code", sa.String), sa.column("name", sa.String), sa.column("kind", sa.String),
    sa.column("valid_from", sa.Date), sa.column("valid_to", sa.Date), sa.column("successor_code", sa.String),
)


def upgrade() -> None:
    op.bulk_insert(admin_unit, [
        {"code": c, "name": n, "kind": k, "valid_from": REFORM, "valid_to": None, "successor_code": None}
        for c, n, k in CURRENT
    ] + [
        {"code": c, "name": n, "kind": "city" if n.startswith(("Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ",
                                                            "Hồ Chí Minh")) else "province",
          "valid_from": None, "valid_to": LAST_DAY_BEFORE, "successor_code": s}
        for c, n, s in FORMER
    ])


def downgrade() -> None:
    op.execute(admin_unit.delete())
