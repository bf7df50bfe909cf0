"""Who records are about: companies with a valid USCC and persons with a valid resident ID number.

* A company's Unified Social Credit Code (GB 32100-2015) carries the division
  code where it is registered, and the division existed when it was founded.
* A person's resident ID number (GB 11643-1999) is checked with
  ``stdnum.cn.ric.validate``, including its historical division database:
  stricter than the gateway's ``validate_resident_id``, which accepts a code
  created after the birth because real numbers carry the code of their issue.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from share_gateway.domain.identifiers import SubjectKind
from share_gateway.synthetic.draws import CENT, add_years, weighted
from share_gateway.synthetic.regions import Division, Region, division_existed

_ATTEMPTS = 200
# Organisation codes (GB 11714) issued after the USCC reform of 1 October 2015 start with "MA".
_USCC_REFORM = date(2015, 10, 1)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_SURNAMES: Sequence[tuple[str, float]] = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.1), ("赵", 2.0),
    ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.4), ("马", 1.3), ("朱", 1.2), ("胡", 1.1), ("郭", 1.1),
    ("何", 1.0), ("高", 1.0), ("林", 1.0), ("罗", 0.9), ("郑", 0.8), ("梁", 0.8), ("谢", 0.7), ("宋", 0.6),
    ("唐", 0.6), ("许", 0.6), ("韩", 0.5), ("冯", 0.5), ("邓", 0.5), ("曹", 0.5), ("彭", 0.5), ("曾", 0.5),
    ("肖", 0.5), ("田", 0.4), ("董", 0.4), ("袁", 0.4), ("潘", 0.4), ("于", 0.4), ("蒋", 0.4), ("蔡", 0.4),
    ("余", 0.4), ("杜", 0.4), ("叶", 0.4), ("程", 0.4), ("苏", 0.3), ("魏", 0.3), ("吕", 0.3), ("丁", 0.3),
    ("任", 0.3), ("沈", 0.3), ("欧阳", 0.05), ("司马", 0.02),
)  # fmt: skip
_MALE_GIVEN = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳建国志文晨博轩睿泽鸿毅峰"
_FEMALE_GIVEN = "芳娜敏静丽艳娟霞秀玲桂英燕洁琳雪婷慧晶颖倩佳悦欣怡涵雨萱思梦瑶璐丹"
_TRADE_SYLLABLES = (
    "恒信华瑞泰达鑫源盛嘉宏博创汇通新锦峰启明远安诚德和丰海天聚星云"
    "智联兴隆润正卓越辰优金富广佳凯晟昊弘睿腾奥维拓合众君立益宇耀骏"
)
_ROADS = (
    "建设路", "人民路", "中山路", "解放路", "长江路", "科技路", "创业路", "文化路", "光明路", "新华路",
    "和平路", "学院路", "工业路", "兴业路", "东风路", "青年路", "滨河路", "迎宾路", "幸福路", "振兴路",
)  # fmt: skip
_ESTATES = ("阳光", "锦绣", "翠苑", "金色家园", "碧水", "华府", "名都", "花园", "丽景", "东方")

# Industry -> business scope as a licence states it.
_INDUSTRIES: Mapping[str, str] = {
    "科技": "技术开发、技术咨询、技术服务、技术转让；软件开发；计算机系统服务",
    "信息技术": "信息系统集成服务；数据处理和存储支持服务；软件开发；信息技术咨询服务",
    "贸易": "销售日用品、服装、电子产品、五金交电；货物进出口；技术进出口",
    "建筑工程": "施工总承包；专业承包；劳务分包；工程管理服务",
    "餐饮管理": "餐饮服务；餐饮管理；食品销售",
    "物流": "道路货物运输（不含危险货物）；国内货物运输代理；仓储服务（不含危险化学品）",
    "文化传媒": "组织文化艺术交流活动；广告设计、代理；会议及展览服务",
    "生物科技": "生物技术开发、技术服务；医学研究和试验发展",
    "机械设备": "通用设备制造；机械设备销售、租赁；通用设备修理",
    "医药": "药品批发；医疗器械销售；保健食品销售",
    "环保科技": "环保技术开发；污水处理及其再生利用；固体废物治理",
    "食品": "食品生产；食品销售；农副产品销售",
    "供应链管理": "供应链管理服务；国内贸易代理；货物进出口",
    "新能源": "太阳能发电技术服务；储能技术服务；电动汽车充电基础设施运营",
    "装饰工程": "住宅室内装饰装修；建筑装饰材料销售；工程管理服务",
    "商务咨询": "企业管理咨询；商务信息咨询；市场调查（不含涉外调查）",
    "房地产开发": "房地产开发经营；物业管理；房地产经纪",
}
# (legal form in the name, entity type as registered, weight)
_LEGAL_FORMS: Sequence[tuple[str, str, float]] = (
    ("有限公司", "有限责任公司（自然人投资或控股）", 5),
    ("有限公司", "有限责任公司（自然人独资）", 2),
    ("有限公司", "有限责任公司（法人独资）", 1),
    ("有限责任公司", "有限责任公司（自然人投资或控股）", 1),
    ("股份有限公司", "股份有限公司（非上市、自然人投资或控股）", 1),
)
_CAPITALS = (100_000, 500_000, 1_000_000, 2_000_000, 3_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000)
_CAPITAL_WEIGHTS = (2, 3, 6, 3, 2, 4, 4, 1, 1)


class Sex(StrEnum):
    MALE = "男"
    FEMALE = "女"


@dataclass(frozen=True, slots=True)
class SyntheticCompany:
    """A market entity as its business licence describes it."""

    uscc: str
    name: str
    region: str
    division: Division
    legal_representative: str
    address: str
    established_on: date
    industry: str
    entity_type: str
    registered_capital: Decimal
    business_scope: str

    @property
    def kind(self) -> SubjectKind:
        return SubjectKind.LEGAL_ENTITY

    @property
    def identifier(self) -> str:
        return self.uscc

    @property
    def registration_authority(self) -> str:
        return f"{self.division.place}市场监督管理局"


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    """A natural person; the ID number encodes where the birth was registered, ``division`` is where they live."""

    resident_id: str
    name: str
    sex: Sex
    birth_date: date
    region: str
    division: Division
    address: str

    @property
    def kind(self) -> SubjectKind:
        return SubjectKind.INDIVIDUAL

    @property
    def identifier(self) -> str:
        return self.resident_id

    def age_on(self, day: date) -> int:
        """Completed years on ``day``, as a court list states a debtor's age."""
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


SyntheticSubject: TypeAlias = SyntheticCompany | SyntheticPerson


def _person_name(rng: random.Random, sex: Sex) -> str:
    pool = _MALE_GIVEN if sex is Sex.MALE else _FEMALE_GIVEN
    given = rng.choice(pool)
    if rng.random() < 0.65:
        given += rng.choice(pool.replace(given, ""))
    return weighted(rng, _SURNAMES) + given


def _company_address(rng: random.Random, division: Division) -> str:
    unit = rng.choice(
        ("", f"{rng.randint(1, 12)}号楼{rng.randint(1, 25)}{rng.randint(1, 20):02d}室", f"{rng.randint(1, 30)}层")
    )
    return f"{division.full_place}{rng.choice(_ROADS)}{rng.randint(1, 399)}号{unit}"


def _home_address(rng: random.Random, division: Division) -> str:
    building, room = rng.randint(1, 30), f"{rng.randint(1, 28)}{rng.randint(1, 6):02d}"
    if rng.random() < 0.5:
        street = f"{rng.choice(_ROADS)}{rng.randint(1, 399)}号院"
        return f"{division.full_place}{street}{building}号楼{rng.randint(1, 6)}单元{room}室"
    return f"{division.full_place}{rng.choice(_ESTATES)}小区{building}栋{room}室"


def _organisation_code(rng: random.Random, established: date) -> str:
    """A GB 11714 organisation code: eight digits before the 2015 reform, "MA..." after, then its check."""
    if established < _USCC_REFORM:
        body = str(rng.randint(1, 7)) + "".join(rng.choice("0123456789") for _ in range(7))
    else:
        body = "MA" + "".join(rng.choice(_USCC_ALPHABET) for _ in range(6))
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def earliest(subject: SyntheticSubject) -> date:
    """The first day anything can have happened to ``subject``: founding, or coming of age."""
    if isinstance(subject, SyntheticCompany):
        return subject.established_on
    return add_years(subject.birth_date, 18)


def _uscc(rng: random.Random, division: Division, established: date) -> str:
    """A USCC: 9 (market regulation), 1 (enterprise), division code, organisation code, check character."""
    body = "91" + division.code + _organisation_code(rng, established)
    return body + str(uscc.calc_check_digit(body))


def _resident_id(rng: random.Random, division: Division, birth: date, sex: Sex) -> str:
    """A resident ID number: division code, birth date, sequence (odd for men), ISO 7064 MOD 11-2 check."""
    sequence = rng.randrange(1, 1000, 2) if sex is Sex.MALE else rng.randrange(2, 1000, 2)
    body = f"{division.code}{birth:%Y%m%d}{sequence:03d}"
    return body + str(ric.calc_check_digit(body + "0"))


def new_company(
    rng: random.Random, region: Region, today: date, identifiers: set[str], names: set[str]
) -> SyntheticCompany:
    """A company in a current division of ``region``; its code and name are added to ``identifiers`` and ``names``."""
    for _ in range(_ATTEMPTS):
        division = rng.choice(region.divisions)
        established = today - timedelta(days=rng.randint(180, 22 * 365))
        if not division_existed(division.code, established):
            continue
        code = _uscc(rng, division, established)
        if code in identifiers:
            continue
        identifiers.add(code)
        industry = rng.choice(list(_INDUSTRIES))
        form, entity_type, _ = rng.choices(_LEGAL_FORMS, weights=[w for *_, w in _LEGAL_FORMS])[0]
        return SyntheticCompany(
            uscc=code,
            name=_company_name(rng, division, industry, form, names),
            region=region.code,
            division=division,
            legal_representative=_person_name(rng, Sex.MALE if rng.random() < 0.75 else Sex.FEMALE),
            address=_company_address(rng, division),
            established_on=established,
            industry=industry,
            entity_type=entity_type,
            registered_capital=Decimal(rng.choices(_CAPITALS, weights=_CAPITAL_WEIGHTS)[0]).quantize(CENT),
            business_scope=_INDUSTRIES[industry],
        )
    raise RuntimeError(f"no new company could be drawn in {region.code} after {_ATTEMPTS} attempts")


def _company_name(rng: random.Random, division: Division, industry: str, form: str, names: set[str]) -> str:
    for _ in range(_ATTEMPTS):
        first = rng.choice(_TRADE_SYLLABLES)
        trade = first + rng.choice(_TRADE_SYLLABLES.replace(first, ""))
        city = division.city if division.municipality or rng.random() < 0.6 else f"{division.city}市"
        name = f"{city}{trade}{industry}{form}"
        if name not in names:
            names.add(name)
            return name
    raise RuntimeError(f"no unused company name left for {division.city} {industry}")


def new_person(rng: random.Random, region: Region, today: date, identifiers: set[str]) -> SyntheticPerson:
    """An adult (20 to 72) whose resident ID number, added to ``identifiers``, was issued in ``region``."""
    for _ in range(_ATTEMPTS):
        sex = Sex.MALE if rng.random() < 0.5 else Sex.FEMALE
        birth = today - timedelta(days=rng.randint(20 * 365 + 5, 72 * 365))
        birth_division = rng.choice(region.birth_divisions)
        number = _resident_id(rng, birth_division, birth, sex)
        try:
            ric.validate(number)  # also: did this division code exist in the birth year?
        except ValidationError:
            continue
        if number in identifiers:
            continue
        identifiers.add(number)
        lives_where_born = birth_division.current and rng.random() < 0.7
        home = birth_division if lives_where_born else rng.choice(region.divisions)
        return SyntheticPerson(
            resident_id=number,
            name=_person_name(rng, sex),
            sex=sex,
            birth_date=birth,
            region=region.code,
            division=home,
            address=_home_address(rng, home),
        )
    raise RuntimeError(f"no valid resident ID number could be drawn in {region.code} after {_ATTEMPTS} attempts")
