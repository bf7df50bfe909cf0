"""Unmet obligations and promises: court judgments, tax and utility arrears, loans, commitments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from share_gateway.domain.identifiers import SubjectKind
from share_gateway.synthetic.case import BOTH, ENTITY, PERSON, Case
from share_gateway.synthetic.draws import CENT, between, money, weighted, yuan
from share_gateway.synthetic.regions import REGIONS

# --- Dishonest judgment debtors -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judgment:
    """A court's entry of a dishonest judgment debtor (Fa Shi [2017] No. 7): the case and its basis."""

    court: str
    case_number: str
    basis_issuer: str
    basis_number: str
    obligation: str
    performance: str
    conduct: str
    filed_on: date


_OBLIGATIONS: Mapping[SubjectKind, tuple[str, ...]] = {
    SubjectKind.LEGAL_ENTITY: ("支付货款", "支付工程款", "偿还借款本金", "支付租金", "支付劳动报酬", "支付服务费"),
    SubjectKind.INDIVIDUAL: ("偿还借款本金", "支付租金", "支付赔偿款", "返还购房款", "支付装修款"),
}
# The conduct categories of Fa Shi [2017] No. 7 Art. 1, weighted by how often each is cited.
_CONDUCTS: Sequence[tuple[str, float]] = (
    ("有履行能力而拒不履行生效法律文书确定义务", 6),
    ("违反财产报告制度", 3),
    ("违反限制消费令", 2),
    ("无正当理由拒不履行执行和解协议", 1),
    ("以伪造证据、暴力、威胁等方法妨碍、抗拒执行", 0.5),
    ("以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行", 0.5),
)
# Each conduct's code in the sample catalog (record_types.dishonest_judgment_debtor.conducts).
CONDUCT_CODES: Mapping[str, str] = {
    "有履行能力而拒不履行生效法律文书确定义务": "able_but_refuses",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行": "obstructs_enforcement",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行": "evades_enforcement",
    "违反财产报告制度": "breaches_property_reporting",
    "违反限制消费令": "breaches_consumption_restriction",
    "无正当理由拒不履行执行和解协议": "refuses_settlement",
}


def _draw_judgment(c: Case) -> Judgment:
    rng, division = c.rng, c.division
    court = c.department("court")
    court_code = f"{division.province_abbr}{division.code[2:6]}"
    filed = c.before_decision(30, 240)
    basis_year = max(c.earliest.year, filed.year - rng.randint(0, 1))
    if rng.random() < 0.85:
        basis_issuer, basis_number = court, f"（{basis_year}）{court_code}民初{rng.randint(1, 40_000)}号"
    else:
        basis_issuer = c.department("arbitration")
        basis_number = f"（{basis_year}）{division.city_abbr}仲裁字第{rng.randint(1, 5000)}号"
    low, high = (50_000, 20_000_000) if c.company else (10_000, 2_000_000)
    amount = money(rng, low, high, CENT)
    return Judgment(
        court=court,
        case_number=f"（{filed.year}）{court_code}执{rng.randint(1, 30_000)}号",
        basis_issuer=basis_issuer,
        basis_number=basis_number,
        obligation=f"{rng.choice(_OBLIGATIONS[c.subject.kind])}人民币{yuan(amount)}元及迟延履行期间的债务利息",
        performance=weighted(rng, (("全部未履行", 0.8), ("部分未履行", 0.2))),
        conduct=weighted(rng, _CONDUCTS),
        filed_on=filed,
    )


def judgment(c: Case) -> Judgment:
    """The enforcement case of ``c``, drawn once."""
    return c.fact(_draw_judgment)


# --- Tax and utility arrears --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrears:
    """Tax or utility arrears: who is owed, how much, since when."""

    kind: str  # tax type or utility kind
    creditor: str
    amount: Decimal
    since: date
    reference: str
    notices: int


_TAX_TYPES: Mapping[SubjectKind, Sequence[tuple[str, float]]] = {
    SubjectKind.LEGAL_ENTITY: (
        ("增值税", 4), ("企业所得税", 3), ("城市维护建设税", 1), ("房产税", 1), ("城镇土地使用税", 1), ("印花税", 0.5),
    ),
    SubjectKind.INDIVIDUAL: (("个人所得税", 3), ("增值税", 1), ("房产税", 1)),
}  # fmt: skip


def _draw_tax_arrears(c: Case) -> Arrears:
    low, high = c.at_least("arrears_amount", *((5_000, 5_000_000) if c.company else (1_000, 300_000)))
    return Arrears(
        kind=weighted(c.rng, _TAX_TYPES[c.subject.kind]),
        creditor=c.department("tax"),
        amount=money(c.rng, low, high, CENT),
        since=c.before_decision(60, 900),
        reference=c.mark("{cabbr}{short}税欠公") + f"〔{c.decision.year}〕{c.rng.randint(1, 12)}号",
        notices=0,
    )


def tax_arrears(c: Case) -> Arrears:
    """The tax arrears of ``c``, drawn once."""
    return c.fact(_draw_tax_arrears)


# Utility providers that do not follow their region's pattern.
_UTILITY_OVERRIDES: Mapping[tuple[str, str], str] = {
    ("深圳", "电费"): "深圳供电局有限公司",
    ("深圳", "水费"): "深圳市水务（集团）有限公司",
    ("深圳", "燃气费"): "深圳市燃气集团股份有限公司",
    ("广州", "燃气费"): "广州燃气集团有限公司",
    ("佛山", "燃气费"): "佛山市燃气集团股份有限公司",
}
_ACCOUNT_DIGITS = {"电费": 10, "水费": 9, "燃气费": 10, "供暖费": 8}


def _draw_utility_arrears(c: Case) -> Arrears:
    rng, division = c.rng, c.division
    region = REGIONS[division.code[:2] + "0000"]
    kind = rng.choice(list(region.utilities))
    provider = _UTILITY_OVERRIDES.get((division.city, kind)) or region.utilities[kind].format(city=division.city)
    low, high = (2_000, 500_000) if c.company else (200, 8_000)
    if c.severity == "serious":
        low, high = low * 3, high * 3
    floor, top = c.at_least("arrears_amount", low, high)  # never below a threshold a source gives
    start = max(c.earliest, c.today - timedelta(days=3 * 365))
    since = between(rng, start, c.today - timedelta(days=60))
    digits = _ACCOUNT_DIGITS.get(kind, 10)
    return Arrears(
        kind=kind,
        creditor=provider,
        amount=money(rng, floor, top, CENT),
        since=since,
        reference=str(rng.randint(10 ** (digits - 1), 10**digits - 1)),
        notices=rng.randint(2, 6) if c.severity == "serious" else rng.randint(1, 3),
    )


def utility_arrears(c: Case) -> Arrears:
    """The utility arrears of ``c``, drawn once."""
    return c.fact(_draw_utility_arrears)


# --- Loans --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loan:
    """A loan in default: lender branch, contract, how much is overdue and since when."""

    lender: str
    contract_number: str
    principal: Decimal
    overdue_amount: Decimal
    overdue_since: date
    days_overdue: int
    settled: bool


@dataclass(frozen=True, slots=True)
class _Lender:
    name: str
    clearing_code: str  # CNAPS bank category code
    local: bool = False  # a city or rural commercial bank: branches are named by district only


_NATIONAL_LENDERS = (
    _Lender("中国工商银行股份有限公司", "102"),
    _Lender("中国农业银行股份有限公司", "103"),
    _Lender("中国银行股份有限公司", "104"),
    _Lender("中国建设银行股份有限公司", "105"),
    _Lender("交通银行股份有限公司", "301"),
    _Lender("中信银行股份有限公司", "302"),
    _Lender("中国民生银行股份有限公司", "305"),
    _Lender("招商银行股份有限公司", "308"),
    _Lender("兴业银行股份有限公司", "309"),
    _Lender("上海浦东发展银行股份有限公司", "310"),
)
_REGIONAL_LENDERS: Mapping[str, tuple[_Lender, ...]] = {
    "110000": (
        _Lender("北京银行股份有限公司", "313", local=True),
        _Lender("北京农村商业银行股份有限公司", "402", local=True),
    ),
    "120000": (_Lender("天津银行股份有限公司", "313", local=True),),
    "310000": (
        _Lender("上海银行股份有限公司", "313", local=True),
        _Lender("上海农村商业银行股份有限公司", "402", local=True),
    ),
    "330000": (_Lender("杭州银行股份有限公司", "313", local=True), _Lender("宁波银行股份有限公司", "313", local=True)),
    "440000": (
        _Lender("广州农村商业银行股份有限公司", "402", local=True),
        _Lender("广发银行股份有限公司", "306"),
    ),
    "510000": (_Lender("成都银行股份有限公司", "313", local=True),),
}
# Loan products for persons: (principal range in yuan, unit, weight).
_PERSONAL_LOANS: Sequence[tuple[tuple[int, int, int], float]] = (
    ((300_000, 3_000_000, 1_000), 2),  # housing
    ((10_000, 300_000, 100), 4),  # consumer
    ((100_000, 1_000_000, 1_000), 1),  # personal business
    ((10_000, 100_000, 1_000), 3),  # credit card limit
)


def _draw_loan(c: Case) -> Loan:
    rng, division = c.rng, c.division
    lenders = _NATIONAL_LENDERS + _REGIONAL_LENDERS.get(division.code[:2] + "0000", ())
    lender = rng.choice(lenders)
    if lender.local:
        branch = f"{division.area}支行"
    else:
        branch = f"{division.city}{division.area}支行" if rng.random() < 0.7 else f"{division.city}分行"
    if c.company is not None:
        low, high, unit = 500_000, 30_000_000, 10_000
    else:
        low, high, unit = weighted(rng, _PERSONAL_LOANS)
    principal = money(rng, low, high, Decimal(unit))
    overdue = (principal * Decimal(rng.uniform(0.05, 1.0))).quantize(CENT)
    # The draw keeps to loans overdue more than 90 days (no rule sets that: the catalog states no threshold),
    # and not before the subject existed.
    start = max(c.earliest + timedelta(days=60), c.today - timedelta(days=1400))
    since = between(rng, start, c.today - timedelta(days=91))
    settled = rng.random() < 0.2
    elapsed = (c.today - since).days
    days = rng.randint(91, elapsed) if settled else elapsed
    signed = max(c.earliest.year, since.year - rng.randint(0, 3))
    return Loan(
        lender=f"{lender.name}{branch}",
        contract_number=f"{lender.clearing_code}{division.code}{signed}{rng.randint(1, 999_999):06d}",
        principal=principal,
        overdue_amount=max(overdue, CENT),
        overdue_since=since,
        days_overdue=days,
        settled=settled,
    )


def loan(c: Case) -> Loan:
    """The defaulted loan of ``c``, drawn once."""
    return c.fact(_draw_loan)


def conduct_ended(c: Case) -> str:
    """The day a loan default's conduct ended (the debt settled), as a submission states it; "" while it goes on.

    Its period runs from that day (Credit Reporting Industry Regulation Art. 16), never from the day it was entered.
    """
    if c.record_type.name != "loan_default" or not loan(c).settled:
        return ""
    drawn = loan(c)
    return (drawn.overdue_since + timedelta(days=drawn.days_overdue)).isoformat()


# --- Credit commitments -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Commitment:
    """A credit commitment made to an authority, and whether it was kept."""

    type: str
    matter: str
    committed_on: date
    authority: str
    kept: bool
    breach: str


# (commitment type, matter, accepting department, subject kinds)
_COMMITMENTS: Sequence[tuple[str, str, str, frozenset[SubjectKind]]] = (
    ("审批替代型", "食品经营许可告知承诺审批", "market", BOTH),
    ("审批替代型", "公共场所卫生许可告知承诺审批", "health", ENTITY),
    ("容缺受理型", "企业变更登记容缺受理", "market", ENTITY),
    ("容缺受理型", "道路运输经营许可容缺受理", "transport", BOTH),
    ("行业自律型", "政府采购投标信用承诺", "finance", ENTITY),
    ("行业自律型", "申报财政专项资金信用承诺", "development", ENTITY),
    ("信用修复型", "申请行政处罚信息信用修复", "development", BOTH),
    ("审批替代型", "居住证申领证明事项告知承诺", "public_security", PERSON),
    ("审批替代型", "公共租赁住房申请证明事项告知承诺", "housing", PERSON),
    ("审批替代型", "社会保险待遇领取证明事项告知承诺", "human_resources", PERSON),
)
_BREACHES = (
    "未在承诺期限内补齐申请材料",
    "承诺内容与实际情况不符",
    "承诺期内因违法行为受到行政处罚",
    "未按承诺履行整改义务",
)


def _draw_commitment(c: Case) -> Commitment:
    rng = c.rng
    kind, matter, body, _ = rng.choice([entry for entry in _COMMITMENTS if c.subject.kind in entry[3]])
    kept = rng.random() < 0.85
    start = max(c.earliest, c.today - timedelta(days=3 * 365))
    return Commitment(
        type=kind,
        matter=matter,
        committed_on=between(rng, start, c.today - timedelta(days=1)),
        authority=c.department(body),
        kept=kept,
        breach="" if kept else rng.choice(_BREACHES),
    )


def commitment(c: Case) -> Commitment:
    """The commitment of ``c``, drawn once."""
    return c.fact(_draw_commitment)
