"""contract_api: the service catalog (服务目录) seeded from the notice, with its negative list

Revision ID: 20261201_0006
Revises: 20261201_0005
Create Date: 2026-12-01 20:31:50.994335
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0006"
down_revision: str | None = "20261201_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NOT_FOR_SALE = "§三(三)"
CATALOG = [
    # Purchasable (§四: what dispatched staff do at each level; §三(三): 云财社〔2017〕206号's scope).
    {
        "code": "county_assistance_handling",
        "name_zh": "县级社会救助经办协助服务（材料审查、入户抽查、信息核对、业务培训、政策宣传）",
        "name_en": "County-level assistance handling support",
        "posting_level": "county",
        "purchasable": True,
        "reason": None,
    },
    {
        "code": "township_assistance_handling",
        "name_zh": "乡镇（街道）社会救助经办协助服务（对象排查、家计调查、邻里访问、信息核查、系统录入）",
        "name_en": "Township-level assistance handling support",
        "posting_level": "township",
        "purchasable": True,
        "reason": None,
    },
    {
        "code": "village_assistance_services",
        "name_zh": "村（社区）社会救助协理服务（政策宣传咨询、协助申请与入户调查、救急难）",
        "name_en": "Village (community) assistance services",
        "posting_level": "village",
        "purchasable": True,
        "reason": None,
    },
    {
        "code": "institution_care_services",
        "name_zh": "供养服务机构社会救助服务",
        "name_en": "Services in care institutions",
        "posting_level": "institution",
        "purchasable": True,
        "reason": None,
    },
    {
        "code": "household_survey_verification",
        "name_zh": "入户调查与家庭经济状况核对服务",
        "name_en": "Household surveys and means verification",
        "posting_level": None,
        "purchasable": True,
        "reason": None,
    },
    {
        "code": "policy_publicity_training",
        "name_zh": "社会救助政策宣传与业务培训服务",
        "name_en": "Policy publicity and training",
        "posting_level": None,
        "purchasable": True,
        "reason": None,
    },
    # The negative list (§三(三)): refused by name when a need names them.
    {
        "code": "administrative_affairs",
        "name_zh": "社会救助行政管理性事务（如救助审批）",
        "name_en": "Administrative affairs of assistance (e.g. approval)",
        "posting_level": None,
        "purchasable": False,
        "reason": f"{NOT_FOR_SALE} 应当由政府直接承担的行政管理性事务，不得向社会力量购买",
    },
    {
        "code": "purchaser_staff_hiring",
        "name_zh": "购买主体的人员聘用",
        "name_en": "Hiring the purchaser's own staff",
        "posting_level": None,
        "purchasable": False,
        "reason": f"{NOT_FOR_SALE} 严禁将购买主体的人员聘用纳入政府购买服务",
    },
    {
        "code": "labor_dispatch_employment",
        "name_zh": "以劳务派遣方式用工（《劳务派遣暂行规定》）",
        "name_en": "Employment by labour dispatch",
        "posting_level": None,
        "purchasable": False,
        "reason": f"{NOT_FOR_SALE} 严禁将劳务派遣用工纳入政府购买服务",
    },
    {
        "code": "public_welfare_posts",
        "name_zh": "设置公益性岗位",
        "name_en": "Public-welfare posts",
        "posting_level": None,
        "purchasable": False,
        "reason": f"{NOT_FOR_SALE} 严禁将设置公益性岗位纳入政府购买服务",
    },
]


def upgrade() -> None:
    catalog = op.create_table(
        "service_catalog",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("posting_level", sa.String(length=12), nullable=True),
        sa.Column("purchasable", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("code ~ '^[a-z][a-z0-9_]{1,59}$'", name=op.f("ck_service_catalog_code_format")),
        sa.CheckConstraint(
            "posting_level IS NULL OR posting_level IN ('county', 'township', 'village', 'institution')",
            name=op.f("ck_service_catalog_posting_level"),
        ),
        sa.CheckConstraint(
            "purchasable OR reason IS NOT NULL", name=op.f("ck_service_catalog_excluded_has_reason")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_service_catalog")),
    )
    # Seeded here, not by `jiuzhu seed`, so every database has it (like the 2019 rule set).
    op.bulk_insert(catalog, CATALOG)


def downgrade() -> None:
    op.drop_table("service_catalog")
