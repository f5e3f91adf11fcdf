"""staffing: rule sets, persons, roster, duties, tasks, work logs; contracts and dispatches (contract_api)

Revision ID: 20261125_0003
Revises: 20261125_0002
Create Date: 2026-11-25 20:46:22.696680
"""

import datetime
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261125_0003"
down_revision: str | None = "20261125_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duties",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.CheckConstraint("level IN ('county', 'township', 'village')", name=op.f("ck_duties_level")),
        sa.PrimaryKeyConstraint("code", "level", name=op.f("pk_duties")),
    )
    op.create_table(
        "staffing_rule_sets",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("document", sa.String(length=300), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staffing_rule_sets")),
        sa.UniqueConstraint("effective_from", name=op.f("uq_staffing_rule_sets_effective_from")),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("county_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("contractor_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'authorized', 'signed', 'filed', 'acknowledged', 'active', 'suspended', 'completed', 'terminated')",
            name=op.f("ck_contracts_status"),
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_contracts_term_order")),
        sa.CheckConstraint("length(county_code) = 6", name=op.f("ck_contracts_county_level")),
        sa.ForeignKeyConstraint(
            ["county_code"], ["regions.code"], name=op.f("fk_contracts_county_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("id_number_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(length=6), nullable=True),
        sa.Column("education", sa.String(length=24), nullable=False),
        sa.Column("phone_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("phone_masked", sa.String(length=20), nullable=True),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("created_by_org_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "education IN ('none', 'primary', 'junior_high', 'senior_high', 'secondary_vocational', 'junior_college', 'bachelor', 'postgraduate')",
            name=op.f("ck_persons_education"),
        ),
        sa.CheckConstraint("gender IS NULL OR gender IN ('female', 'male')", name=op.f("ck_persons_gender")),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_persons_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("id_number_hash", name=op.f("uq_persons_id_number_hash")),
    )
    op.create_index("ix_persons_region_code", "persons", ["region_code"], unique=False)
    op.create_table(
        "dispatches",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("posting_level", sa.String(length=12), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("monthly_wage", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("labor_contract_signed_on", sa.Date(), nullable=False),
        sa.Column("declarations", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('replaced', 'resigned', 'contract_ended', 'removed')",
            name=op.f("ck_dispatches_end_reason"),
        ),
        sa.CheckConstraint(
            "posting_level IN ('county', 'township', 'village', 'institution')",
            name=op.f("ck_dispatches_posting_level"),
        ),
        sa.CheckConstraint(
            "(end_date IS NULL) = (end_reason IS NULL)", name=op.f("ck_dispatches_end_has_reason")
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_dispatches_period_order")
        ),
        sa.CheckConstraint("monthly_wage > 0", name=op.f("ck_dispatches_wage_positive")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_dispatches_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_dispatches_person_id_persons")),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_dispatches_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatches")),
    )
    op.create_index("ix_dispatches_contract_id", "dispatches", ["contract_id"], unique=False)
    op.create_index("ix_dispatches_person_id", "dispatches", ["person_id"], unique=False)
    op.create_index("ix_dispatches_region_code", "dispatches", ["region_code"], unique=False)
    op.create_table(
        "establishment_posts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "length(region_code) IN (6, 9)", name=op.f("ck_establishment_posts_county_or_township")
        ),
        sa.CheckConstraint(
            "until IS NULL OR until >= since", name=op.f("ck_establishment_posts_period_order")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_establishment_posts_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_establishment_posts_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_establishment_posts")),
    )
    op.create_index(
        "ix_establishment_posts_region_code", "establishment_posts", ["region_code"], unique=False
    )
    op.create_index(
        "uq_establishment_posts_open_person",
        "establishment_posts",
        ["person_id"],
        unique=True,
        postgresql_where=sa.text("until IS NULL"),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dispatch_id", sa.BigInteger(), nullable=False),
        sa.Column("duty_code", sa.String(length=60), nullable=False),
        sa.Column("duty_level", sa.String(length=12), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispatch_id"], ["dispatches.id"], name=op.f("fk_tasks_dispatch_id_dispatches")
        ),
        sa.ForeignKeyConstraint(
            ["duty_code", "duty_level"],
            ["duties.code", "duties.level"],
            name=op.f("fk_tasks_duty_code_duties"),
        ),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_tasks_region_code_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_region_code", "tasks", ["region_code"], unique=False)
    op.create_table(
        "work_logs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("dispatch_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("duty_code", sa.String(length=60), nullable=False),
        sa.Column("duty_level", sa.String(length=12), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("program", sa.String(length=12), nullable=True),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("household_ref", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "program IS NULL OR program IN ('dibao', 'tekun', 'medical', 'temporary', 'other')",
            name=op.f("ck_work_logs_program"),
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_work_logs_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["dispatch_id"], ["dispatches.id"], name=op.f("fk_work_logs_dispatch_id_dispatches")
        ),
        sa.ForeignKeyConstraint(
            ["duty_code", "duty_level"],
            ["duties.code", "duties.level"],
            name=op.f("fk_work_logs_duty_code_duties"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_work_logs_person_id_persons")),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_work_logs_region_code_regions")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_work_logs_task_id_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_logs")),
        sa.UniqueConstraint("dispatch_id", "client_id", name="uq_work_logs_dispatch_client"),
    )
    op.create_index("ix_work_logs_region_date", "work_logs", ["region_code", "date"], unique=False)

    # Reference data the rules stand on: the 2019 notice's parameters and the §四 duties catalog.
    rule_sets = sa.table(
        "staffing_rule_sets",
        sa.column("name", sa.String),
        sa.column("document", sa.String),
        sa.column("effective_from", sa.Date),
        sa.column("parameters", postgresql.JSONB),
    )
    op.bulk_insert(
        rule_sets,
        [
            {
                "name": "2019 云南省政府购买社会救助服务 人员配备标准",
                "document": "云南省民政厅 云南省财政厅关于进一步加强政府购买社会救助服务工作的通知（2019）§二",
                "effective_from": datetime.date(2019, 1, 8),
                "parameters": {
                    "county": {"threshold": 30000, "minimum_at_or_below": 3, "recipients_per_staff": 10000},
                    "township": {
                        "threshold": 1500,
                        "minimum_at_or_below": 1,
                        "maximum_at_or_below": 2,
                        "recipients_per_staff_min": 1500,
                        "recipients_per_staff_max": 800,
                    },
                    "village": {
                        "minimum": 1,
                        "tiers": [
                            {"population_from": 0, "maximum": 1},
                            {"population_from": 5000, "maximum": 2},
                            {"population_from": 10000, "maximum": 3},
                        ],
                    },
                    "rounding": "ceil",
                },
            }
        ],
    )
    duties = sa.table(
        "duties",
        sa.column("code", sa.String),
        sa.column("level", sa.String),
        sa.column("name_zh", sa.String),
        sa.column("name_en", sa.String),
    )
    welfare = (
        "孤残儿童、留守儿童、困境儿童、社会福利、殡葬改革、社区志愿服务和村务公开等民政政策落实",
        "children and welfare policy, funeral reform, community volunteering, village affairs disclosure",
    )
    supervision = ("协助指导、监督社会组织依法开展活动", "guiding and supervising social organizations")
    catalog = {
        "county": [
            ("material_review", "材料审查", "material review"),
            ("household_spot_check", "入户抽查", "household spot checks"),
            ("information_verification", "信息核对", "information verification"),
            ("business_training", "业务培训", "business training"),
            ("policy_publicity", "政策宣传", "policy publicity"),
        ],
        "township": [
            ("target_screening", "对象排查", "screening of recipients"),
            ("means_test", "家计调查", "household means test"),
            ("neighbour_visit", "邻里访问", "neighbour visits"),
            ("letter_evidence", "信函索证", "evidence by letter"),
            ("public_appraisal", "群众评议", "public appraisal"),
            ("information_check", "信息核查", "information checks"),
            ("system_data_entry", "系统数据录入", "system data entry"),
            ("policy_publicity", "政策宣传", "policy publicity"),
            ("children_and_welfare_policy", *welfare),
            ("social_organization_supervision", *supervision),
        ],
        "village": [
            ("policy_consultation", "政策宣传咨询", "policy publicity and consultation"),
            (
                "application_assistance",
                "协助申请、入户调查、走访、公示",
                "application, household survey, visits, public notice",
            ),
            (
                "emergency_assistance",
                "救急难申请、调查、公示、资金物资发放",
                "emergency assistance: application, survey, notice, distribution",
            ),
            (
                "mobilize_social_forces",
                "动员社会力量、组织公益性劳动",
                "mobilizing social forces and community work",
            ),
            ("children_and_welfare_policy", *welfare),
            ("social_organization_supervision", *supervision),
        ],
    }
    op.bulk_insert(
        duties,
        [
            {"code": code, "level": level, "name_zh": zh, "name_en": en}
            for level, items in catalog.items()
            for code, zh, en in items
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_work_logs_region_date", table_name="work_logs")
    op.drop_table("work_logs")
    op.drop_index("ix_tasks_region_code", table_name="tasks")
    op.drop_table("tasks")
    op.drop_index(
        "uq_establishment_posts_open_person",
        table_name="establishment_posts",
        postgresql_where=sa.text("until IS NULL"),
    )
    op.drop_index("ix_establishment_posts_region_code", table_name="establishment_posts")
    op.drop_table("establishment_posts")
    op.drop_index("ix_dispatches_region_code", table_name="dispatches")
    op.drop_index("ix_dispatches_person_id", table_name="dispatches")
    op.drop_index("ix_dispatches_contract_id", table_name="dispatches")
    op.drop_table("dispatches")
    op.drop_index("ix_persons_region_code", table_name="persons")
    op.drop_table("persons")
    op.drop_table("contracts")
    op.drop_table("staffing_rule_sets")
    op.drop_table("duties")
