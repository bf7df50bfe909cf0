"""Administrative penalties: violations by department, fines by severity, the decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from share_gateway.domain.identifiers import SubjectKind
from share_gateway.synthetic.case import BOTH, ENTITY, PERSON, Case
from share_gateway.synthetic.draws import CENT, cn_date, money, yuan

# How each department marks its decision numbers: 京海市监罚〔2026〕123号.
_PENALTY_MARKS: Mapping[str, str] = {
    "market": "{cabbr}{short}市监罚",
    "tax": "{cabbr}{short}税稽罚",
    "environment": "{cabbr}环罚",
    "emergency": "{cabbr}{short}应急罚",
    "transport": "{cabbr}交执罚",
}


@dataclass(frozen=True, slots=True)
class _Violation:
    """A kind of violation: who punishes it, who commits it, what the decision says, the law it breaks."""

    department: str
    kinds: frozenset[SubjectKind]
    type: str
    conduct: str
    basis: str
    sanction: str = ""  # what a serious case adds to the fine


_VIOLATIONS: Sequence[_Violation] = (
    _Violation(
        "market",
        BOTH,
        "发布虚假广告",
        "在其经营场所及网络店铺发布含有虚假内容的商品广告，欺骗、误导消费者",
        "《中华人民共和国广告法》第二十八条",
        "吊销营业执照",
    ),
    _Violation(
        "market",
        BOTH,
        "销售不符合食品安全标准的食品",
        "销售的食品经抽样检验，菌落总数项目不符合食品安全国家标准",
        "《中华人民共和国食品安全法》第三十四条",
        "吊销食品经营许可证",
    ),
    _Violation(
        "market", BOTH, "不按规定明码标价", "在经营场所销售商品未按照规定明码标价", "《中华人民共和国价格法》第十三条"
    ),
    _Violation(
        "market", BOTH, "侵犯注册商标专用权", "销售侵犯他人注册商标专用权的商品", "《中华人民共和国商标法》第五十七条"
    ),
    _Violation(
        "market",
        ENTITY,
        "提交虚假材料取得登记",
        "在办理变更登记时提交虚假材料，隐瞒重要事实",
        "《中华人民共和国市场主体登记管理条例》第四十四条",
        "吊销营业执照",
    ),
    _Violation("market", PERSON, "无照经营", "未依法取得营业执照，擅自从事经营活动", "《无证无照经营查处办法》第二条"),
    _Violation(
        "tax",
        BOTH,
        "未按照规定期限办理纳税申报",
        "未按照规定期限办理纳税申报和报送纳税资料",
        "《中华人民共和国税收征收管理法》第二十五条",
    ),
    _Violation(
        "tax", ENTITY, "虚开发票", "为他人开具与实际经营业务情况不符的发票", "《中华人民共和国发票管理办法》第二十一条"
    ),
    _Violation(
        "tax",
        BOTH,
        "偷税",
        "采取在账簿上少列收入的手段，不缴或者少缴应纳税款",
        "《中华人民共和国税收征收管理法》第六十三条",
    ),
    _Violation(
        "environment",
        ENTITY,
        "超标排放大气污染物",
        "废气排放口颗粒物排放浓度超过国家规定的排放标准",
        "《中华人民共和国大气污染防治法》第十八条",
        "责令停产整治",
    ),
    _Violation(
        "environment",
        ENTITY,
        "未批先建",
        "建设项目环境影响报告表未依法经审批部门审查批准，擅自开工建设",
        "《中华人民共和国环境影响评价法》第二十五条",
        "责令停止建设",
    ),
    _Violation(
        "emergency",
        ENTITY,
        "未按规定对从业人员进行安全生产教育和培训",
        "未按照规定对从业人员进行安全生产教育和培训",
        "《中华人民共和国安全生产法》第二十八条",
        "责令停产停业整顿",
    ),
    _Violation(
        "emergency",
        ENTITY,
        "未建立事故隐患排查治理制度",
        "未建立事故隐患排查治理制度，未采取措施消除事故隐患",
        "《中华人民共和国安全生产法》第四十一条",
        "责令停产停业整顿",
    ),
    _Violation(
        "transport",
        BOTH,
        "未取得道路运输经营许可擅自从事道路运输经营",
        "未取得道路运输经营许可，擅自从事道路普通货物运输经营",
        "《中华人民共和国道路运输条例》第二十四条",
    ),
)

# Fines in yuan by subject kind and severity; a severity the table lacks is treated as "general".
_FINES: Mapping[tuple[SubjectKind, str], tuple[int, int]] = {
    (SubjectKind.LEGAL_ENTITY, "minor"): (1_000, 10_000),
    (SubjectKind.LEGAL_ENTITY, "general"): (10_000, 200_000),
    (SubjectKind.LEGAL_ENTITY, "serious"): (200_000, 2_000_000),
    (SubjectKind.INDIVIDUAL, "minor"): (200, 2_000),
    (SubjectKind.INDIVIDUAL, "general"): (2_000, 50_000),
    (SubjectKind.INDIVIDUAL, "serious"): (50_000, 500_000),
}


@dataclass(frozen=True, slots=True)
class Penalty:
    """An administrative penalty decision (SAMR Order 45 Art. 4): its number, issuer, facts and sanction."""

    number: str
    issuer: str
    violation_type: str
    facts: str
    text: str
    amount: Decimal


def _draw_penalty(c: Case) -> Penalty:
    rng, kind = c.rng, c.subject.kind
    violation = rng.choice([v for v in _VIOLATIONS if kind in v.kinds])
    severity = c.severity if (kind, c.severity) in _FINES else "general"
    low, high = _FINES[kind, severity]
    fine = money(rng, low, high, Decimal(100))
    confiscated = Decimal(0)
    parts = [f"罚款人民币{yuan(fine)}元"]
    if severity == "minor" and rng.random() < 0.5:
        parts = ["警告", f"并处罚款人民币{yuan(fine)}元"]
    elif severity != "minor" and rng.random() < (0.6 if severity == "serious" else 0.4):
        confiscated = money(rng, float(fine) / 10, float(fine), CENT)
        parts = [f"没收违法所得人民币{yuan(confiscated)}元", f"并处罚款人民币{yuan(fine)}元"]
    if severity == "serious" and violation.sanction and rng.random() < 0.3:
        parts.append(violation.sanction)
    end = c.before_decision(20, 120)
    start = max(c.earliest, end - timedelta(days=rng.randint(10, 300)))
    facts = (
        f"经查，当事人于{cn_date(start)}至{cn_date(end)}期间{violation.conduct}。"
        f"上述行为违反了{violation.basis}的规定。"
    )
    mark = c.mark(_PENALTY_MARKS[violation.department])
    return Penalty(
        number=f"{mark}〔{c.decision.year}〕{rng.randint(1, 3000)}号",
        issuer=c.department(violation.department),
        violation_type=violation.type,
        facts=facts,
        text="，".join(parts),
        amount=fine + confiscated,
    )


def penalty(c: Case) -> Penalty:
    """The penalty decision of ``c``, drawn once."""
    return c.fact(_draw_penalty)
