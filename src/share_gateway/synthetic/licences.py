"""Administrative licences: kinds by department and industry, their numbers, the licensing decision."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from share_gateway.domain.identifiers import SubjectKind
from share_gateway.synthetic.case import BOTH, ENTITY, PERSON, Case
from share_gateway.synthetic.draws import add_years

# How each department marks its licensing decision numbers: 京海市监许准〔2025〕12号.
_LICENCE_MARKS: Mapping[str, str] = {
    "market": "{cabbr}{short}市监许",
    "market_city": "{cabbr}市监许",
    "environment": "{cabbr}环许",
    "emergency": "{cabbr}{short}应急许",
    "transport": "{cabbr}交许",
    "housing": "{cabbr}建许",
    "telecom": "{pabbr}通许",
    "human_resources": "{cabbr}{short}人社许",
}


@dataclass(frozen=True, slots=True)
class _LicenceKind:
    """A kind of licence: who grants it, to whom, for which industries, for how long, how it is numbered."""

    name: str
    department: str
    kinds: frozenset[SubjectKind]
    industries: frozenset[str]  # empty: any industry
    years: int
    contents: tuple[str, ...]
    number: Callable[[Case], str]


@dataclass(frozen=True, slots=True)
class Licence:
    """A licence granted by an administrative licensing decision, and that decision's number."""

    name: str
    number: str
    content: str
    issuer: str
    valid_from: date
    valid_until: date
    decision_number: str


def _food_licence_number(c: Case) -> str:
    operator = "1" if c.company else "2"  # 1: enterprise, 2: individual operator
    return f"JY{operator}{c.division.code}{c.rng.randint(0, 999_999):06d}{c.rng.randint(0, 9)}"


def _pollutant_permit_number(c: Case) -> str:
    assert c.company is not None
    return f"{c.company.uscc}{c.rng.randint(1, 3):03d}V"


_LICENCE_KINDS: Sequence[_LicenceKind] = (
    _LicenceKind(
        "食品经营许可证",
        "market",
        BOTH,
        frozenset({"餐饮管理", "食品", "贸易"}),
        5,
        ("预包装食品（含冷藏冷冻食品）销售；散装食品（不含冷藏冷冻食品）销售", "热食类食品制售；冷食类食品制售"),
        _food_licence_number,
    ),
    _LicenceKind(
        "道路运输经营许可证",
        "transport",
        ENTITY,
        frozenset({"物流", "供应链管理"}),
        4,
        ("道路普通货物运输", "道路普通货物运输；货物专用运输（集装箱）"),
        lambda c: f"{c.division.province_abbr}交运管许可货字{c.division.code}{c.rng.randint(1, 999_999):06d}号",
    ),
    _LicenceKind(
        "排污许可证",
        "environment",
        ENTITY,
        frozenset({"机械设备", "新能源", "环保科技", "食品", "生物科技"}),
        5,
        ("废气：颗粒物、二氧化硫、氮氧化物", "废水：化学需氧量、氨氮；废气：挥发性有机物"),
        _pollutant_permit_number,
    ),
    _LicenceKind(
        "危险化学品经营许可证",
        "emergency",
        ENTITY,
        frozenset({"贸易", "新能源"}),
        3,
        ("危险化学品经营（不带储存设施）：乙醇、甲醇、丙酮",),
        lambda c: c.mark("{cabbr}{short}应急经字") + f"〔{c.decision.year}〕{c.rng.randint(1, 9999):06d}",
    ),
    _LicenceKind(
        "医疗器械经营许可证",
        "market_city",
        ENTITY,
        frozenset({"医药", "生物科技"}),
        5,
        ("第三类医疗器械：6815注射穿刺器械，6866医用高分子材料及制品",),
        lambda c: c.mark("{cabbr}市监械经营许") + f"{c.decision.year}{c.rng.randint(1, 9999):04d}号",
    ),
    _LicenceKind(
        "建筑业企业资质证书",
        "housing",
        ENTITY,
        frozenset({"建筑工程", "装饰工程", "房地产开发"}),
        5,
        ("建筑工程施工总承包三级", "建筑装修装饰工程专业承包二级"),
        lambda c: f"D2{c.division.code[:2]}{c.rng.randint(1, 9_999_999):07d}",
    ),
    _LicenceKind(
        "增值电信业务经营许可证",
        "telecom",
        ENTITY,
        frozenset({"科技", "信息技术", "文化传媒"}),
        5,
        ("信息服务业务（仅限互联网信息服务）", "在线数据处理与交易处理业务"),
        lambda c: f"{c.division.province_abbr}B2-{c.decision.year}{c.rng.randint(1, 9999):04d}",
    ),
    _LicenceKind(
        "人力资源服务许可证",
        "human_resources",
        ENTITY,
        frozenset({"商务咨询"}),
        5,
        ("职业介绍；人力资源供求信息的收集和发布；人力资源管理咨询",),
        lambda c: f"{c.division.code}{c.decision.year}{c.rng.randint(1, 9999):04d}",
    ),
    _LicenceKind(
        "网络预约出租汽车驾驶员证",
        "transport",
        PERSON,
        frozenset(),
        6,
        ("网络预约出租汽车客运驾驶",),
        lambda c: f"{c.division.code}{c.rng.randint(1, 99_999_999):08d}",
    ),
    _LicenceKind(
        "道路运输从业人员从业资格证",
        "transport",
        PERSON,
        frozenset(),
        6,
        ("经营性道路货物运输驾驶员", "经营性道路旅客运输驾驶员"),
        lambda c: f"{c.division.code}{c.rng.randint(1, 99_999_999):08d}",
    ),
    _LicenceKind(
        "特种设备安全管理和作业人员证",
        "market_city",
        PERSON,
        frozenset(),
        4,
        ("叉车司机（N1）", "电梯修理（T）", "工业锅炉司炉（G1）"),
        lambda c: c.mark("{cabbr}") + f"{c.rng.randint(1, 99_999_999):08d}",
    ),
)


def _draw_licence(c: Case) -> Licence:
    rng, kind = c.rng, c.subject.kind
    candidates = [k for k in _LICENCE_KINDS if kind in k.kinds]
    if c.company is not None:
        industry = c.company.industry
        candidates = [k for k in candidates if industry in k.industries] or candidates
    chosen = rng.choice(candidates)
    valid_until = add_years(c.decision, chosen.years) - timedelta(days=1)
    mark = c.mark(_LICENCE_MARKS[chosen.department])
    return Licence(
        name=chosen.name,
        number=chosen.number(c),
        content=rng.choice(chosen.contents),
        issuer=c.department(chosen.department),
        valid_from=c.decision,
        valid_until=valid_until,
        decision_number=f"{mark}准〔{c.decision.year}〕{rng.randint(1, 5000)}号",
    )


def licence(c: Case) -> Licence:
    """The licence of ``c``, drawn once."""
    return c.fact(_draw_licence)
