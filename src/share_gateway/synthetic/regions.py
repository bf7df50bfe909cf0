"""Where subjects live: province-level regions, their GB/T 2260 divisions and local bodies.

Division codes and names are those of python-stdnum's database, which the
resident ID check relies on; the unit tests check that the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError


@dataclass(frozen=True, slots=True)
class Division:
    """A GB/T 2260 county-level division: where a subject is registered and which local bodies act."""

    code: str
    name: str  # 海淀区
    city: str  # 北京 (without 市)
    city_abbr: str  # 京, 穗: prefix of local document numbers
    short: str  # 海: the district's mark in document numbers
    province: str  # 北京市, 广东省
    province_abbr: str  # 京, 粤: prefix of court case numbers
    current: bool = True  # False: only still seen on older resident ID numbers

    @property
    def municipality(self) -> bool:
        return self.province == f"{self.city}市"

    @property
    def place(self) -> str:
        """How a local body names itself: 北京市海淀区, 深圳市南山区."""
        return f"{self.city}市{self.name}"

    @property
    def full_place(self) -> str:
        """How an address starts: 北京市海淀区, 广东省深圳市南山区."""
        return self.place if self.municipality else f"{self.province}{self.place}"

    @property
    def area(self) -> str:
        """The name without its suffix, as branch offices use it: 海淀, 浦东."""
        for suffix in ("新区", "区", "县"):
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name[: -len(suffix)]
        return self.name


@dataclass(frozen=True, slots=True)
class Region:
    """A province-level region: its divisions, its public utilities and the names of some of its bodies."""

    code: str
    name: str
    abbr: str
    divisions: tuple[Division, ...]
    birth_divisions: tuple[Division, ...]
    utilities: Mapping[str, str]
    departments: Mapping[str, str] = field(default_factory=dict)


_City = tuple[str, str, Sequence[tuple[str, str, str]]]


def _region(
    code: str,
    name: str,
    abbr: str,
    cities: Sequence[_City],
    utilities: Mapping[str, str],
    historical: Sequence[tuple[str, str, str]] = (),
    departments: Mapping[str, str] | None = None,
) -> Region:
    divisions = tuple(
        Division(division, county, city, city_abbr, short, name, abbr)
        for city, city_abbr, entries in cities
        for division, county, short in entries
    )
    abbreviations = {city: city_abbr for city, city_abbr, _ in cities}
    old = tuple(
        Division(division, county, city, abbreviations[city], "", name, abbr, current=False)
        for division, city, county in historical
    )
    return Region(code, name, abbr, divisions, divisions + old, utilities, departments or {})


_MUNICIPAL_DEPARTMENTS = {"transport": "{city}市交通委员会", "housing": "{city}市住房和城乡建设委员会"}

# Division codes and names as stdnum's database has them today (tests check the two agree).
# Historical codes cover residents born before their district existed (stdnum checks the birth year).
REGIONS: Mapping[str, Region] = {
    region.code: region
    for region in (
        _region(
            "110000",
            "北京市",
            "京",
            [
                (
                    "北京",
                    "京",
                    [
                        ("110101", "东城区", "东"),
                        ("110102", "西城区", "西"),
                        ("110105", "朝阳区", "朝"),
                        ("110106", "丰台区", "丰"),
                        ("110107", "石景山区", "石"),
                        ("110108", "海淀区", "海"),
                        ("110109", "门头沟区", "门"),
                        ("110111", "房山区", "房"),
                        ("110112", "通州区", "通"),
                        ("110113", "顺义区", "顺"),
                        ("110114", "昌平区", "昌"),
                        ("110115", "大兴区", "兴"),
                    ],
                )
            ],
            {
                "电费": "国网北京市电力公司",
                "水费": "北京市自来水集团有限责任公司",
                "燃气费": "北京市燃气集团有限责任公司",
                "供暖费": "北京市热力集团有限责任公司",
            },
            departments=_MUNICIPAL_DEPARTMENTS,
        ),
        _region(
            "120000",
            "天津市",
            "津",
            [
                (
                    "天津",
                    "津",
                    [
                        ("120101", "和平区", "和"),
                        ("120102", "河东区", "东"),
                        ("120103", "河西区", "西"),
                        ("120104", "南开区", "南"),
                        ("120105", "河北区", "北"),
                        ("120106", "红桥区", "红"),
                        ("120110", "东丽区", "丽"),
                        ("120111", "西青区", "青"),
                        ("120112", "津南区", "津南"),
                        ("120113", "北辰区", "辰"),
                        ("120116", "滨海新区", "滨"),
                    ],
                )
            ],
            {
                "电费": "国网天津市电力公司",
                "水费": "天津水务集团有限公司",
                "燃气费": "天津能源投资集团有限公司",
                "供暖费": "天津能源投资集团有限公司",
            },
            departments={"transport": "{city}市交通运输委员会", "housing": "{city}市住房和城乡建设委员会"},
        ),
        _region(
            "310000",
            "上海市",
            "沪",
            [
                (
                    "上海",
                    "沪",
                    [
                        ("310101", "黄浦区", "黄"),
                        ("310104", "徐汇区", "徐"),
                        ("310105", "长宁区", "长"),
                        ("310106", "静安区", "静"),
                        ("310107", "普陀区", "普"),
                        ("310109", "虹口区", "虹"),
                        ("310110", "杨浦区", "杨"),
                        ("310112", "闵行区", "闵"),
                        ("310113", "宝山区", "宝"),
                        ("310115", "浦东新区", "浦"),
                    ],
                )
            ],
            {
                "电费": "国网上海市电力公司",
                "水费": "上海城投水务（集团）有限公司",
                "燃气费": "上海燃气有限公司",
            },
            departments=_MUNICIPAL_DEPARTMENTS,
        ),
        _region(
            "330000",
            "浙江省",
            "浙",
            [
                (
                    "杭州",
                    "杭",
                    [
                        ("330102", "上城区", "上"),
                        ("330105", "拱墅区", "拱"),
                        ("330106", "西湖区", "西"),
                        ("330108", "滨江区", "滨"),
                        ("330110", "余杭区", "余"),
                        ("330122", "桐庐县", "桐"),
                    ],
                ),
                ("宁波", "甬", [("330203", "海曙区", "海"), ("330205", "江北区", "江"), ("330212", "鄞州区", "鄞")]),
                ("温州", "温", [("330302", "鹿城区", "鹿")]),
                ("绍兴", "绍", [("330602", "越城区", "越")]),
            ],
            {
                "电费": "国网浙江省电力有限公司{city}供电公司",
                "水费": "{city}市水务集团有限公司",
                "燃气费": "{city}市燃气集团有限公司",
            },
            historical=[("330120", "杭州", "市区")],
        ),
        _region(
            "440000",
            "广东省",
            "粤",
            [
                (
                    "广州",
                    "穗",
                    [
                        ("440103", "荔湾区", "荔"),
                        ("440104", "越秀区", "越"),
                        ("440105", "海珠区", "海"),
                        ("440106", "天河区", "天"),
                        ("440111", "白云区", "云"),
                        ("440112", "黄埔区", "埔"),
                    ],
                ),
                (
                    "深圳",
                    "深",
                    [
                        ("440303", "罗湖区", "罗"),
                        ("440304", "福田区", "福"),
                        ("440305", "南山区", "南"),
                        ("440306", "宝安区", "宝"),
                        ("440307", "龙岗区", "龙"),
                    ],
                ),
                ("佛山", "佛", [("440604", "禅城区", "禅"), ("440605", "南海区", "南"), ("440606", "顺德区", "顺")]),
            ],
            {
                "电费": "广东电网有限责任公司{city}供电局",
                "水费": "{city}市自来水有限公司",
                "燃气费": "{city}燃气集团有限公司",
            },
            historical=[("440120", "广州", "市区"), ("440320", "深圳", "市区")],
        ),
        _region(
            "510000",
            "四川省",
            "川",
            [
                (
                    "成都",
                    "成",
                    [
                        ("510104", "锦江区", "锦"),
                        ("510105", "青羊区", "青"),
                        ("510106", "金牛区", "金"),
                        ("510107", "武侯区", "武"),
                        ("510108", "成华区", "华"),
                        ("510112", "龙泉驿区", "龙"),
                        ("510121", "金堂县", "金堂"),
                    ],
                ),
                ("自贡", "自", [("510302", "自流井区", "井"), ("510321", "荣县", "荣")]),
                ("绵阳", "绵", [("510703", "涪城区", "涪")]),
            ],
            {
                "电费": "国网四川省电力公司{city}供电公司",
                "水费": "{city}市自来水有限责任公司",
                "燃气费": "{city}燃气集团股份有限公司",
            },
            historical=[("510120", "成都", "市区")],
        ),
    )
}
SUPPORTED_REGIONS: tuple[str, ...] = tuple(REGIONS)


def region_of(code: str) -> Region:
    """The supported province-level region ``code`` names, or ``ValueError`` naming the supported ones."""
    region = REGIONS.get(code)
    if region is None:
        raise ValueError(f"region {code!r} is not supported; use one of {', '.join(SUPPORTED_REGIONS)}")
    return region


def division_existed(code: str, on: date) -> bool:
    """Whether stdnum's historical database has ``code`` in use in the year of ``on``."""
    try:
        ric.get_birth_place(f"{code}{on:%Y%m%d}0000")
    except ValidationError:
        return False
    return True


# Local bodies by function; a region may name some of its own differently (Region.departments).
_DEPARTMENTS: Mapping[str, str] = {
    "market": "{place}市场监督管理局",
    "market_city": "{city}市市场监督管理局",
    "tax": "国家税务总局{place}税务局",
    "environment": "{city}市生态环境局",
    "emergency": "{place}应急管理局",
    "transport": "{city}市交通运输局",
    "housing": "{city}市住房和城乡建设局",
    "telecom": "{province}通信管理局",
    "human_resources": "{place}人力资源和社会保障局",
    "health": "{place}卫生健康委员会",
    "finance": "{place}财政局",
    "development": "{city}市发展和改革委员会",
    "public_security": "{city}市公安局{area}分局",
    "court": "{place}人民法院",
    "arbitration": "{city}仲裁委员会",
}


def fill(template: str, division: Division) -> str:
    """``template`` with the names and marks of ``division`` put in: {place}, {city}, {cabbr}, {short}..."""
    return template.format(
        place=division.place,
        city=division.city,
        cabbr=division.city_abbr,
        short=division.short,
        province=division.province,
        pabbr=division.province_abbr,
        area=division.area,
    )


def department(name: str, division: Division) -> str:
    """The name of a local body (``market``, ``tax``, ``court``...) serving ``division``."""
    region = REGIONS[division.code[:2] + "0000"]
    return fill(region.departments.get(name) or _DEPARTMENTS[name], division)
