"""A deterministic, realistic sample portfolio (示例客户数据) for demos, docs and benchmarks.

:func:`generate_sample` fills a store with families of Chinese customers —
valid resident ID numbers, mobiles, employers, households, referrals — and
their policies across every product line, each with a lifecycle of ten years
or less: activation, yearly renewals, missed premiums, lapses and
reinstatements, surrenders, cancellations (a few for non-payment or fraud),
maturities and claims. Everything comes from ``random.Random(seed)`` and the
``as_of`` date, never from the clock: the same arguments give the same
portfolio, with the same ids, on every backend.

All the personal data is invented. Employer names are made up; the insurers
named on holdings (投保情况) are real Chinese insurers, as on a real card.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from insurcrm.domain.card import Education, FamilyMember, Holding, LifeSituation, MaritalStatus
from insurcrm.domain.churn import ChurnRecord, churn_on
from insurcrm.domain.customers import (
    Customer,
    Household,
    LeadSource,
    PdpPersonality,
    RiskPreference,
)
from insurcrm.domain.dates import add_years
from insurcrm.domain.policies import Beneficiary, EndReason, Policy, ProductLine
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.values import CENT, Email, Gender, Money, PersonName, Phone, ResidentId
from insurcrm.errors import NotFound, ValidationError
from insurcrm.services.book import by_holder
from insurcrm.services.customers import erase_in
from insurcrm.services.progress import Progress
from insurcrm.services.sample_service import ServiceRecords, ServiceSampler

__all__ = [
    "DEFAULT_AS_OF",
    "OUR_COMPANY",
    "REGION_CODES",
    "ProgressCallback",
    "SampleStats",
    "customer_id",
    "generate_sample",
]

#: The assessment date the sample is built up to, unless told otherwise.
DEFAULT_AS_OF = dt.date(2026, 6, 30)

#: The (fictional) insurer whose book the sample is; employer of internal customers.
OUR_COMPANY = "示例人寿保险股份有限公司"

#: ``progress(done, total)``: customers written so far, out of the customers requested.
ProgressCallback = Progress

T = TypeVar("T")
DAY = dt.timedelta(days=1)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def customer_id(n: int) -> str:
    """The id of the ``n``-th sample customer (1-based): ``C000001``."""
    return f"C{n:06d}"


def _policy_id(n: int) -> str:
    return f"P{n:07d}"


def _household_id(n: int) -> str:
    return f"H{n:05d}"


@attrs.frozen
class SampleStats:
    """What :func:`generate_sample` did.

    Attributes:
        seed: the seed of the generator.
        as_of: the date the sample is built up to.
        requested: how many customers were asked for.
        already_present: the store already held the sample (its first
            customer, and its last or more); nothing was added.
        customers: customers added (0 when already present).
        households: households added.
        policies: policies added.
        erased: customers whose personal data the sample erased (on request,
            DOMAIN.md §10.4), so erasure shows in the figures.
        batches: transactions committed for the customers.
        first_id: the id of the first sample customer.
        last_id: the id of the last customer added, or ``None``.
        complaints: complaints added.
        interactions: logged contacts added.
        responses: survey responses added.
        churns: churn records made (when a customer's last policy ended).
        resumed: customers an interrupted run had already stored, left as they were: the
            run went on after them (0 for a run from an empty store).
    """

    seed: int
    as_of: dt.date
    requested: int
    already_present: bool
    customers: int
    households: int
    policies: int
    erased: int
    batches: int
    first_id: str
    last_id: str | None
    complaints: int = 0
    interactions: int = 0
    responses: int = 0
    churns: int = 0
    resumed: int = 0


# -- reference data ---------------------------------------------------------------------------

# (surname, pinyin, weight in ‰ — roughly the 2020 census frequencies)
_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 71), ("李", "li", 70), ("张", "zhang", 67), ("刘", "liu", 54),
    ("陈", "chen", 45), ("杨", "yang", 31), ("黄", "huang", 22), ("赵", "zhao", 20),
    ("吴", "wu", 20), ("周", "zhou", 19), ("徐", "xu", 13), ("孙", "sun", 12),
    ("马", "ma", 12), ("朱", "zhu", 11), ("胡", "hu", 10), ("郭", "guo", 10),
    ("何", "he", 9), ("高", "gao", 9), ("林", "lin", 9), ("罗", "luo", 8),
    ("郑", "zheng", 8), ("梁", "liang", 7), ("谢", "xie", 6), ("宋", "song", 5),
    ("唐", "tang", 5), ("许", "xu", 5), ("韩", "han", 5), ("冯", "feng", 4),
    ("邓", "deng", 4), ("曹", "cao", 4), ("彭", "peng", 4), ("曾", "zeng", 4),
    ("肖", "xiao", 4), ("田", "tian", 3), ("董", "dong", 3), ("袁", "yuan", 3),
    ("潘", "pan", 3), ("于", "yu", 3), ("蒋", "jiang", 3), ("蔡", "cai", 3),
    ("余", "yu", 3), ("杜", "du", 3), ("叶", "ye", 3), ("程", "cheng", 3),
    ("苏", "su", 3), ("魏", "wei", 3), ("吕", "lv", 3), ("丁", "ding", 3),
    ("任", "ren", 3), ("沈", "shen", 3), ("姚", "yao", 2), ("卢", "lu", 2),
    ("姜", "jiang", 2), ("崔", "cui", 2), ("钟", "zhong", 2), ("谭", "tan", 2),
    ("陆", "lu", 2), ("汪", "wang", 2), ("范", "fan", 2), ("金", "jin", 2),
    ("石", "shi", 2), ("廖", "liao", 2), ("贾", "jia", 2), ("夏", "xia", 2),
    ("韦", "wei", 2), ("方", "fang", 2), ("白", "bai", 2), ("邹", "zou", 2),
    ("孟", "meng", 2), ("熊", "xiong", 2), ("秦", "qin", 2), ("邱", "qiu", 2),
    ("江", "jiang", 2), ("尹", "yin", 2), ("薛", "xue", 2), ("闫", "yan", 2),
    ("段", "duan", 2), ("雷", "lei", 2), ("侯", "hou", 2), ("龙", "long", 2),
    ("史", "shi", 2), ("陶", "tao", 2), ("黎", "li", 1), ("贺", "he", 1),
    ("顾", "gu", 1), ("毛", "mao", 1), ("郝", "hao", 1), ("龚", "gong", 1),
    ("邵", "shao", 1), ("万", "wan", 1), ("钱", "qian", 1), ("严", "yan", 1),
    ("欧阳", "ouyang", 0.3), ("司马", "sima", 0.1), ("上官", "shangguan", 0.1),
    ("诸葛", "zhuge", 0.1),
)  # fmt: skip
_SURNAME_WEIGHTS = tuple(w for _, _, w in _SURNAMES)

_MALE_CHARS: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"),
    ("杰", "jie"), ("涛", "tao"), ("斌", "bin"), ("超", "chao"), ("明", "ming"),
    ("刚", "gang"), ("平", "ping"), ("辉", "hui"), ("鹏", "peng"), ("华", "hua"),
    ("飞", "fei"), ("鑫", "xin"), ("波", "bo"), ("宇", "yu"), ("浩", "hao"),
    ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"), ("旭", "xu"),
    ("宁", "ning"), ("龙", "long"), ("林", "lin"), ("阳", "yang"), ("建", "jian"),
    ("国", "guo"), ("志", "zhi"), ("文", "wen"), ("博", "bo"), ("晨", "chen"),
    ("天", "tian"), ("子", "zi"), ("轩", "xuan"), ("睿", "rui"), ("泽", "ze"),
    ("航", "hang"), ("铭", "ming"), ("海", "hai"), ("东", "dong"), ("峰", "feng"),
    ("亮", "liang"), ("成", "cheng"), ("毅", "yi"), ("立", "li"), ("彬", "bin"),
)  # fmt: skip
_FEMALE_CHARS: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("艳", "yan"), ("娟", "juan"), ("霞", "xia"), ("秀", "xiu"), ("英", "ying"),
    ("玲", "ling"), ("桂", "gui"), ("婷", "ting"), ("雪", "xue"), ("慧", "hui"),
    ("莹", "ying"), ("琳", "lin"), ("晶", "jing"), ("欣", "xin"), ("颖", "ying"),
    ("倩", "qian"), ("洁", "jie"), ("悦", "yue"), ("思", "si"), ("雨", "yu"),
    ("涵", "han"), ("佳", "jia"), ("怡", "yi"), ("萱", "xuan"), ("梦", "meng"),
    ("璐", "lu"), ("瑶", "yao"), ("琪", "qi"), ("蕾", "lei"), ("红", "hong"),
    ("燕", "yan"), ("萍", "ping"), ("梅", "mei"), ("兰", "lan"), ("春", "chun"),
)  # fmt: skip


@attrs.frozen
class _City:
    name: str
    area_code: str  # without the trunk 0
    districts: tuple[str, ...]
    region_codes: tuple[str, ...]  # resident ID region codes of locals
    native_place: str
    weight: float


_CITIES: tuple[_City, ...] = (
    _City("北京", "10", ("朝阳区", "海淀区", "东城区", "西城区", "丰台区"),
          ("110105", "110108", "110101", "110102", "110106"), "北京", 14),
    _City("上海", "21", ("徐汇区", "黄浦区", "长宁区", "静安区", "闵行区", "杨浦区"),
          ("310104", "310101", "310105", "310106", "310112", "310110"), "上海", 14),
    _City("深圳", "755", ("南山区", "福田区", "罗湖区"),
          ("440305", "440304", "440303"), "广东深圳", 9),
    _City("广州", "20", ("天河区", "越秀区", "荔湾区"),
          ("440106", "440104", "440103"), "广东广州", 9),
    _City("成都", "28", ("武侯区", "锦江区", "青羊区"),
          ("510107", "510104", "510105", "510106", "510102", "510103", "510121"), "四川成都", 9),
    _City("杭州", "571", ("西湖区", "上城区", "拱墅区"),
          ("330106", "330102", "330105", "330122"), "浙江杭州", 8),
    _City("南京", "25", ("玄武区", "秦淮区", "鼓楼区"),
          ("320102", "320104", "320106"), "江苏南京", 7),
    _City("武汉", "27", ("武昌区", "江岸区", "江汉区"),
          ("420106", "420102", "420103"), "湖北武汉", 7),
    _City("西安", "29", ("雁塔区", "碑林区", "莲湖区"),
          ("610113", "610103", "610104"), "陕西西安", 6),
    _City("天津", "22", ("和平区", "河西区"), ("120101", "120103"), "天津", 6),
)  # fmt: skip
_CITY_WEIGHTS = tuple(c.weight for c in _CITIES)

# Where people who moved to the cities were first registered: (region code, native place).
# python-stdnum knows when each code was in use and refuses a code not in use in the birth
# year; the county codes (and Beijing's, Shanghai's, Tianjin's) serve the older generations.
_ORIGINS: tuple[tuple[str, str], ...] = (
    ("370102", "山东济南"), ("370202", "山东青岛"), ("350203", "福建厦门"),
    ("210202", "辽宁大连"), ("210102", "辽宁沈阳"), ("410105", "河南郑州"),
    ("430102", "湖南长沙"), ("530102", "云南昆明"), ("130102", "河北石家庄"),
    ("220102", "吉林长春"), ("230103", "黑龙江哈尔滨"), ("360103", "江西南昌"),
    ("340104", "安徽合肥"), ("520102", "贵州贵阳"), ("620102", "甘肃兰州"),
    ("450103", "广西南宁"), ("330203", "浙江宁波"), ("320502", "江苏苏州"),
    ("510121", "四川金堂"), ("330122", "浙江桐庐"), ("340121", "安徽长丰"),
    ("360121", "江西南昌"), ("430121", "湖南长沙"), ("530124", "云南富民"),
    ("620121", "甘肃永登"), ("210224", "辽宁长海"), ("120104", "天津"),
    ("310107", "上海"), ("110107", "北京"),
)  # fmt: skip
_NATIVE_PLACES: dict[str, str] = {
    **{code: city.native_place for city in _CITIES for code in city.region_codes},
    **dict(_ORIGINS),
}


# The years each region code was in use, as python-stdnum (and so ResidentId) knows them;
# codes not listed were in use throughout. A unit test checks this table against stdnum.
_SINCE_1983 = (
    "440303", "440304", "440305", "440103", "440104", "330102", "330105", "330106", "320102",
    "320104", "320106", "420102", "420103", "420106", "610103", "610104", "610113", "370102",
    "370202", "350203", "210202", "210102", "410105", "430102", "530102", "130102", "220102",
    "230103", "360103", "340104", "520102", "620102", "450103", "330203", "320502",
)  # fmt: skip
_IN_USE: dict[str, tuple[int, int]] = {
    **dict.fromkeys(_SINCE_1983, (1983, 9999)),
    "310112": (1981, 9999),
    "440106": (1985, 9999),
    "510102": (1983, 1990),
    "510103": (1983, 1990),
    **dict.fromkeys(("510104", "510105", "510106", "510107"), (1990, 9999)),
}

#: Every resident ID region code the sample uses.
REGION_CODES: tuple[str, ...] = tuple(sorted(_NATIVE_PLACES))


def _code_in_use(code: str, year: int) -> bool:
    """Whether region ``code`` was in use in ``year`` (so an ID born then may carry it)."""
    first, last = _IN_USE.get(code, (0, 9999))
    return first <= year <= last


_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182", "183",
    "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip
_EMAIL_DOMAINS = ("163.com", "126.com", "sina.com", "foxmail.com", "outlook.com", "139.com")
_ROADS = (
    "人民路", "建设路", "解放路", "中山路", "和平路", "长江路", "科技路", "文化路", "新华路",
    "学府路", "滨江大道", "东风路", "光明街", "朝阳路", "青年路", "黄河路", "振兴街",
)  # fmt: skip
_COMPOUNDS = (
    "阳光花园", "翠苑小区", "锦绣家园", "幸福里", "滨江花园", "金色港湾", "书香名邸",
    "梧桐苑", "紫荆园", "丽景湾", "和园", "春晓新村",
)  # fmt: skip
_BRANDS = (
    "华信", "恒泰", "远景", "启明", "鼎盛", "博远", "锦程", "瑞丰", "宏达", "天成", "金桥",
    "新元", "卓越", "嘉和", "盛世", "联创", "云帆", "星辰", "汇通", "致远",
)  # fmt: skip
_BANKS = ("中国工商银行", "中国建设银行", "招商银行", "中国银行", "交通银行", "兴业银行")
_OTHER_INSURERS = (
    "中国人寿保险股份有限公司", "中国平安人寿保险股份有限公司", "中国太平洋人寿保险股份有限公司",
    "新华人寿保险股份有限公司", "泰康人寿保险有限责任公司", "太平人寿保险有限公司",
    "中国人民财产保险股份有限公司", "友邦人寿保险有限公司",
)  # fmt: skip


@attrs.frozen
class _Occupation:
    position: str
    occupation_type: str  # 职业类别
    employer_kind: str
    departments: tuple[str, ...]
    min_education: int  # index in _EDUCATION_ORDER


_EDUCATION_ORDER = (
    Education.PRIMARY,
    Education.JUNIOR_HIGH,
    Education.SENIOR_HIGH,
    Education.COLLEGE,
    Education.BACHELOR,
    Education.MASTER,
    Education.DOCTORATE,
)

_OCCUPATIONS: tuple[_Occupation, ...] = (
    _Occupation("软件工程师", "1类（内勤）", "tech", ("研发部", "技术部", "测试部"), 4),
    _Occupation("产品经理", "1类（内勤）", "tech", ("产品部",), 4),
    _Occupation("会计", "1类（内勤）", "company", ("财务部",), 3),
    _Occupation("人事主管", "1类（内勤）", "company", ("人力资源部",), 3),
    _Occupation("行政专员", "1类（内勤）", "company", ("行政部", "综合管理部"), 2),
    _Occupation("中学教师", "1类（内勤）", "school", ("语文教研组", "数学教研组", "教务处"), 4),
    _Occupation("大学教师", "1类（内勤）", "university", ("经济学院", "计算机学院"), 5),
    _Occupation("医生", "2类", "hospital", ("心内科", "普外科", "儿科", "急诊科"), 4),
    _Occupation("护士", "2类", "hospital", ("护理部", "门诊部", "急诊科"), 3),
    _Occupation("公务员", "1类（内勤）", "government", ("办公室", "综合科", "政策法规科"), 4),
    _Occupation("销售经理", "2类（外勤）", "trade", ("销售部", "市场部", "大客户部"), 2),
    _Occupation("客户经理", "1类（内勤）", "bank", ("个人金融部", "营业部"), 4),
    _Occupation("律师", "1类（内勤）", "law", ("诉讼部", "非诉部"), 4),
    _Occupation("建筑工程师", "3类", "construction", ("工程部", "项目部"), 3),
    _Occupation("研究员", "1类（内勤）", "research", ("研发中心",), 5),
    _Occupation("车间工人", "3类", "factory", ("生产部", "装配车间"), 1),
    _Occupation("快递员", "4类", "logistics", ("配送站", "转运中心"), 1),
    _Occupation("网约车司机", "4类", "transport", ("运营部",), 1),
    _Occupation("厨师", "3类", "catering", ("后厨",), 1),
    _Occupation("个体工商户", "2类", "shop", (), 0),
)
_OUR_STAFF = _Occupation(
    "保险公司职员", "1类（内勤）", "ours", ("个险部", "银保部", "客户服务部", "核保部", "理赔部"), 3
)
_RETIRED = "退休人员"

_HOBBIES = (
    "跑步", "摄影", "旅游", "书法", "钓鱼", "广场舞", "读书", "烹饪", "羽毛球", "围棋", "园艺",
)  # fmt: skip
_HEALTH = (
    "良好", "良好", "良好", "良好", "高血压（控制良好）", "轻度脂肪肝", "曾做阑尾手术", "颈椎不适",
)  # fmt: skip
_PERSONALITY = ("开朗外向", "稳重细致", "随和", "果断", "谨慎", "热情健谈")
_SOCIAL = ("同事、校友为主", "社区邻里", "商会朋友", "跑团伙伴", "老乡会", "家长群")
_CAREER = (
    "一直在本地工作", "曾在外企工作多年，后转入现单位", "自主创业十余年", "部队转业后进入现单位",
    "毕业后即进入现单位", "曾在南方沿海城市打工",
)  # fmt: skip
_ECONOMY = ("一般", "中等", "中等", "较好", "较好", "富裕")
_CAMPAIGNS = ("客户节回馈", "双十一保障节", "老客户加保计划", "金秋理财季", "618健康节")

_LONG_TERM_LINES = frozenset(
    {
        ProductLine.LIFE,
        ProductLine.CRITICAL_ILLNESS,
        ProductLine.ANNUITY,
        ProductLine.UNIVERSAL_LIFE,
        ProductLine.INVESTMENT_LINKED,
    }
)
_BENEFICIARY_LINES = _LONG_TERM_LINES | {ProductLine.ACCIDENT}
_CLAIM_LINES = frozenset({ProductLine.LIFE, ProductLine.CRITICAL_ILLNESS})
_SHARES: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (("100",),),
    2: (("50", "50"), ("60", "40"), ("70", "30")),
    3: (("40", "30", "30"), ("50", "25", "25"), ("33.34", "33.33", "33.33")),
}


def _line_weights(age: int, risk: RiskPreference | None) -> dict[ProductLine, float]:
    L = ProductLine  # noqa: N806
    if age < 30:
        weights = {L.MEDICAL: 3, L.ACCIDENT: 3, L.CRITICAL_ILLNESS: 2.5, L.LIFE: 0.8, L.AUTO: 1.2,
                   L.INVESTMENT_LINKED: 0.4, L.UNIVERSAL_LIFE: 0.3, L.ANNUITY: 0.2,
                   L.PROPERTY: 0.3, L.OTHER: 0.6}  # fmt: skip
    elif age < 50:
        weights = {L.CRITICAL_ILLNESS: 3, L.MEDICAL: 2.5, L.ACCIDENT: 2, L.LIFE: 2, L.ANNUITY: 1.5,
                   L.UNIVERSAL_LIFE: 1, L.INVESTMENT_LINKED: 0.8, L.AUTO: 1.8, L.PROPERTY: 1,
                   L.OTHER: 0.4}  # fmt: skip
    else:
        weights = {L.ANNUITY: 2.5, L.MEDICAL: 2, L.ACCIDENT: 1.5, L.UNIVERSAL_LIFE: 1.2,
                   L.LIFE: 0.6, L.CRITICAL_ILLNESS: 0.6, L.INVESTMENT_LINKED: 0.5, L.AUTO: 0.8,
                   L.PROPERTY: 1.2, L.OTHER: 0.5}  # fmt: skip
    result: dict[ProductLine, float] = {line: float(w) for line, w in weights.items()}
    if risk is RiskPreference.RISK_SEEKING:
        result[L.INVESTMENT_LINKED] *= 2.5
        result[L.UNIVERSAL_LIFE] *= 1.8
    elif risk is RiskPreference.RISK_AVERSE:
        result[L.ACCIDENT] *= 1.5
    return result


# -- the generator ----------------------------------------------------------------------------


@attrs.define
class _Person:
    """Someone invented for the sample, before they become a customer or a family member."""

    surname: tuple[str, str]
    given: tuple[tuple[str, str], ...]
    gender: Gender
    birth: dt.date
    education: Education
    occupation: _Occupation

    @property
    def name(self) -> str:
        return self.surname[0] + "".join(c for c, _ in self.given)

    @property
    def pinyin(self) -> str:
        return self.surname[1] + "".join(p for _, p in self.given)

    def retired_on(self, day: dt.date) -> bool:
        """Past the statutory retirement age (60 for men, 55 for women) on ``day``."""
        return _age(self.birth, day) >= (60 if self.gender is Gender.MALE else 55)

    def job_on(self, day: dt.date) -> str:
        """What a family member does, as written on the card (职业)."""
        age = _age(self.birth, day)
        if age < 6:
            return "学龄前"
        if age < 18:
            return "学生"
        if age < 22 and self.education in (Education.BACHELOR, Education.MASTER):
            return "大学生"
        return "退休" if self.retired_on(day) else self.occupation.position


@attrs.define
class _Member:
    """A unit member who becomes a customer."""

    person: _Person
    id: str
    created_on: dt.date
    age: int
    marital: MaritalStatus
    customer: Customer | None = None


@attrs.define
class _Batch:
    households: list[Household] = attrs.Factory(list)
    customers: list[Customer] = attrs.Factory(list)
    policies: list[Policy] = attrs.Factory(list)
    service: ServiceRecords = attrs.Factory(ServiceRecords)
    churns: list[ChurnRecord] = attrs.Factory(list)


class _Sampler:
    """Invents the sample one family unit at a time, from one random generator."""

    def __init__(self, seed: int, as_of: dt.date, total: int) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        start = add_years(as_of, -10)
        span = (as_of - start).days
        # Registration dates grow with the customer number, more of them recently.
        self.dates = sorted(
            start + dt.timedelta(days=int(span * self.rng.random() ** 0.8)) for _ in range(total)
        )
        self.next_customer = 1
        self.next_policy = 1
        self.next_household = 1
        self.id_numbers: set[str] = set()
        self.mobiles: set[str] = set()
        self.emails: set[str] = set()
        self.referrers: list[str] = []
        self.advocates: list[str] = []

    # -- small helpers ------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def day_between(self, first: dt.date, last: dt.date) -> dt.date:
        if last <= first:
            return first
        return first + dt.timedelta(days=self.rng.randint(0, (last - first).days))

    def money(self, low: int, high: int) -> Money:
        """A random amount of yuan between ``low`` and ``high``, with cents."""
        return Money(Decimal(self.rng.randint(low * 100, high * 100)).scaleb(-2))

    def digits(self, n: int) -> str:
        return "".join(str(self.rng.randint(0, 9)) for _ in range(n))

    # -- people -------------------------------------------------------------------------

    def person(
        self, gender: Gender, birth: dt.date, surname: tuple[str, str] | None = None
    ) -> _Person:
        rng = self.rng
        if surname is None:
            name, pinyin, _ = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
            surname = (name, pinyin)
        chars = _MALE_CHARS if gender is Gender.MALE else _FEMALE_CHARS
        size = 1 if self.chance(0.35) else 2
        given = tuple(self.pick(chars) for _ in range(size))
        education = self.education(birth.year)
        return _Person(surname, given, gender, birth, education, self.occupation(education))

    def birth_for_age(self, age: int, on: dt.date) -> dt.date:
        return add_years(on, -age) - dt.timedelta(days=self.rng.randint(0, 364))

    def id_number(self, person: _Person, city: _City) -> tuple[ResidentId, str]:
        """A unique resident ID number for ``person``, and the native place (籍贯) it shows."""
        year = person.birth.year
        local = [code for code in city.region_codes if _code_in_use(code, year)]
        moved = [code for code, _ in _ORIGINS if _code_in_use(code, year)]
        region = self.pick(local if local and (self.chance(0.7) or not moved) else moved)
        odd = 1 if person.gender is Gender.MALE else 0
        while True:
            rid = ResidentId.compose(region, person.birth, self.rng.randint(0, 499) * 2 + odd)
            if rid.value not in self.id_numbers:
                self.id_numbers.add(rid.value)
                return rid, _NATIVE_PLACES[region]

    def mobile(self) -> Phone:
        while True:
            number = f"+86{self.pick(_MOBILE_PREFIXES)}{self.digits(8)}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return Phone(number)

    def landline(self, city: _City) -> Phone:
        while True:
            try:
                return Phone(f"+86{city.area_code}{self.rng.randint(5, 8)}{self.digits(7)}")
            except ValidationError:
                continue  # a few blocks (e.g. Beijing's 8000) are not in use

    def email(self, person: _Person) -> Email:
        while True:
            if self.chance(0.35):
                address = f"{self.rng.randint(10_000_000, 3_999_999_999)}@qq.com"
            else:
                suffix = (
                    str(person.birth.year) if self.chance(0.5) else str(self.rng.randint(1, 999))
                )
                address = f"{person.pinyin}{suffix}@{self.pick(_EMAIL_DOMAINS)}"
            if address not in self.emails:
                self.emails.add(address)
                return Email(address)

    def address(self, city: _City, district: str) -> str:
        rng = self.rng
        return (
            f"{city.name}市{district}{self.pick(_ROADS)}{rng.randint(1, 999)}号"
            f"{self.pick(_COMPOUNDS)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元"
            f"{rng.randint(1, 32)}{rng.randint(1, 4):02d}室"
        )

    def education(self, birth_year: int) -> Education:
        if birth_year < 1965:
            weights = (15, 30, 30, 12, 10, 2, 0.5)
        elif birth_year < 1980:
            weights = (5, 20, 30, 20, 20, 4, 1)
        else:
            weights = (1, 8, 20, 25, 35, 9, 2)
        return self.rng.choices(_EDUCATION_ORDER, weights=weights)[0]

    def employer(self, occupation: _Occupation, city: _City) -> str:
        brand = self.pick(_BRANDS)
        c = city.name
        pick, n = self.pick, self.rng.randint
        makers: dict[str, Callable[[], str]] = {
            "tech": lambda: f"{c}{brand}科技有限公司",
            "company": lambda: f"{c}{brand}{pick(('实业', '贸易', '文化传媒', '置业'))}有限公司",
            "school": lambda: f"{c}市第{n(1, 40)}中学",
            "university": lambda: f"{c}{pick(('理工大学', '师范大学', '财经大学'))}",
            "hospital": lambda: f"{c}市第{n(1, 9)}人民医院",
            "government": lambda: f"{c}市{pick(('税务局', '市场监督管理局', '教育局', '财政局'))}",
            "trade": lambda: f"{c}{brand}贸易有限公司",
            "bank": lambda: f"{pick(_BANKS)}{c}分行",
            "law": lambda: f"{brand}律师事务所",
            "construction": lambda: f"{c}{brand}建设集团有限公司",
            "research": lambda: f"{c}{brand}研究院",
            "factory": lambda: f"{c}{brand}{pick(('电子', '机械制造', '汽车零部件'))}有限公司",
            "logistics": lambda: f"{brand}速运有限公司{c}分公司",
            "transport": lambda: f"{c}{brand}出行科技有限公司",
            "catering": lambda: f"{c}{brand}餐饮管理有限公司",
            "shop": lambda: f"{c}{brand}{pick(('便利店', '餐馆', '服装店', '五金店', '美容院'))}",
            "ours": lambda: f"{OUR_COMPANY}{c}分公司",
        }
        return makers[occupation.employer_kind]()

    def occupation(self, education: Education) -> _Occupation:
        level = _EDUCATION_ORDER.index(education) if education in _EDUCATION_ORDER else 2
        fitting = [o for o in _OCCUPATIONS if o.min_education <= level]
        return self.pick(fitting)

    def life(self) -> LifeSituation:
        if not self.chance(0.6):
            return LifeSituation()
        rng = self.rng
        return LifeSituation(
            career_history=self.pick(_CAREER) if self.chance(0.5) else None,
            economic_condition=self.pick(_ECONOMY),
            hobbies="、".join(rng.sample(_HOBBIES, rng.randint(1, 3))),
            social_circle=self.pick(_SOCIAL) if self.chance(0.4) else None,
            personality=self.pick(_PERSONALITY) if self.chance(0.6) else None,
            health=self.pick(_HEALTH),
        )

    def marital(self, age: int) -> MaritalStatus:
        S, M, D, W = (  # noqa: N806
            MaritalStatus.SINGLE,
            MaritalStatus.MARRIED,
            MaritalStatus.DIVORCED,
            MaritalStatus.WIDOWED,
        )
        if age < 28:
            return self.rng.choices((S, M), weights=(85, 15))[0]
        if age < 40:
            return self.rng.choices((S, M, D), weights=(32, 60, 8))[0]
        widowed = 20 if age >= 60 else 4
        return self.rng.choices((S, M, D, W), weights=(5, 75, 12, widowed))[0]

    # -- family units -------------------------------------------------------------------

    def take_member(self, person: _Person, marital: MaritalStatus) -> _Member:
        number = self.next_customer
        self.next_customer += 1
        created = self.dates[number - 1]
        return _Member(person, customer_id(number), created, _age(person.birth, created), marital)

    def unit(self, remaining: int) -> _Batch:
        """Invent one family unit: a single customer, a couple, or a couple and an adult child."""
        rng = self.rng
        city = rng.choices(_CITIES, weights=_CITY_WEIGHTS)[0]
        created = self.dates[self.next_customer - 1]
        roll = rng.random()
        size = 1 if roll < 0.5 else (2 if roll < 0.92 else 3)
        size = min(size, remaining)
        gender = Gender.MALE if self.chance(0.5) else Gender.FEMALE
        if size == 1:
            age = int(rng.triangular(20, 70, 36))
        elif size == 2:
            age = int(rng.triangular(24, 64, 38))
        else:
            age = int(rng.triangular(47, 66, 54))
        primary = self.person(gender, self.birth_for_age(age, created))
        members: list[_Member] = []
        spouse_person: _Person | None = None
        if size >= 2:
            spouse_gender = Gender.FEMALE if gender is Gender.MALE else Gender.MALE
            spouse_birth = primary.birth + dt.timedelta(days=rng.randint(-5 * 365, 5 * 365))
            spouse_birth = min(spouse_birth, add_years(created, -21))
            spouse_person = self.person(spouse_gender, spouse_birth)
            members.append(self.take_member(primary, MaritalStatus.MARRIED))
            members.append(self.take_member(spouse_person, MaritalStatus.MARRIED))
        else:
            members.append(self.take_member(primary, self.marital(age)))
            if members[0].marital is not MaritalStatus.SINGLE:
                other = Gender.FEMALE if gender is Gender.MALE else Gender.MALE
                spouse_birth = primary.birth + dt.timedelta(days=rng.randint(-4 * 365, 4 * 365))
                spouse_person = self.person(other, min(spouse_birth, add_years(created, -20)))
        father = primary if gender is Gender.MALE else spouse_person
        surname = father.surname if father is not None else primary.surname
        oldest = min(primary.birth, spouse_person.birth if spouse_person else primary.birth)
        youngest = max(primary.birth, spouse_person.birth if spouse_person else primary.birth)
        children: list[_Person] = []
        if members[0].marital is not MaritalStatus.SINGLE:
            count = rng.choices((0, 1, 2), weights=(20, 60, 20))[0]
            if size == 3:
                count = max(count, 1)
            birth = add_years(youngest, rng.randint(23, 32)) + rng.randint(0, 364) * DAY
            for i in range(count):
                if i > 0:  # a younger sibling
                    birth += rng.randint(550, 2200) * DAY
                elif size == 3:
                    birth = max(min(birth, add_years(created, -22)), add_years(oldest, 18))
                if birth > created:
                    break
                child_gender = Gender.MALE if self.chance(0.5) else Gender.FEMALE
                children.append(self.person(child_gender, birth, surname))
        if size == 3 and children:  # the grown-up child is a customer too
            adult = children[0]
            members.append(self.take_member(adult, self.marital(_age(adult.birth, created))))
        return self.build_unit(city, members, spouse_person, children)

    def family_of(
        self,
        member: _Member,
        spouse: _Person | None,
        children: list[_Person],
        parents: tuple[_Person, ...],
    ) -> list[FamilyMember]:
        family: list[FamilyMember] = []
        on = member.created_on
        if spouse is not None and member.marital in (MaritalStatus.MARRIED,):
            family.append(
                FamilyMember("配偶", PersonName(spouse.name), spouse.birth, spouse.job_on(on))
            )
        for child in children:
            if child is member.person or child.birth > on:
                continue
            relation = "儿子" if child.gender is Gender.MALE else "女儿"
            family.append(
                FamilyMember(relation, PersonName(child.name), child.birth, child.job_on(on))
            )
        for parent in parents:
            if parent.birth > on:
                continue
            relation = "父亲" if parent.gender is Gender.MALE else "母亲"
            family.append(
                FamilyMember(relation, PersonName(parent.name), parent.birth, parent.job_on(on))
            )
        return family

    def build_unit(
        self,
        city: _City,
        members: list[_Member],
        spouse: _Person | None,
        children: list[_Person],
    ) -> _Batch:
        rng = self.rng
        batch = _Batch()
        primary = members[0]
        household: Household | None = None
        married = spouse is not None and primary.marital is MaritalStatus.MARRIED
        family_size = 1 + married + len(children)
        if len(members) > 1 or self.chance(0.4):
            labels = {1: "一人户", 2: "两口之家", 3: "三口之家", 4: "四口之家", 5: "五口之家"}
            household = Household(_household_id(self.next_household), labels.get(family_size))
            self.next_household += 1
            batch.households.append(household)
        district = self.pick(city.districts)
        home = self.address(city, district) if self.chance(0.85) else None
        home_phone = self.landline(city) if self.chance(0.15) else None
        agent = f"AG{rng.randint(1, 60):04d}"
        csr = f"CSR{rng.randint(1, 15):03d}" if self.chance(0.35) else None
        internal = self.chance(0.03)
        referred: str | None = None
        lead: LeadSource = rng.choices(
            (
                LeadSource.PERSONAL_VISIT,
                LeadSource.PHONE_SURVEY,
                LeadSource.MAIL_SURVEY,
                LeadSource.ON_SITE_OBSERVATION,
                LeadSource.SELF_FILLED_CARD,
                LeadSource.ONLINE,
                LeadSource.OTHER,
            ),
            weights=(20, 12, 3, 5, 8, 15, 4),
        )[0]
        if self.referrers and self.chance(0.18):
            pool = self.advocates if self.advocates and self.chance(0.5) else self.referrers
            referred = self.pick(pool)
            lead = LeadSource.CUSTOMER_REFERRAL
        if internal:
            primary.person.occupation = _OUR_STAFF
            primary.person.education = max(
                primary.person.education, Education.COLLEGE, key=_EDUCATION_ORDER.index
            )
        for index, member in enumerate(members):
            person = member.person
            if index == 0:
                member_spouse = spouse
                parents: tuple[_Person, ...] = ()
                if self.chance(0.2):
                    parents = (
                        self.person(
                            Gender.MALE,
                            add_years(person.birth, -rng.randint(24, 33))
                            - rng.randint(0, 364) * DAY,
                            person.surname,  # children take the father's surname
                        ),
                        self.person(
                            Gender.FEMALE,
                            add_years(person.birth, -rng.randint(22, 31))
                            - rng.randint(0, 364) * DAY,
                        ),
                    )
                kids = children
                member_referred, member_lead, member_internal = referred, lead, internal
            elif index == 1:
                member_spouse = primary.person
                parents = ()
                kids = children
                member_internal = internal and self.chance(0.7)
                if self.chance(0.4):
                    member_referred, member_lead = primary.id, LeadSource.CUSTOMER_REFERRAL
                else:
                    member_referred, member_lead = referred, lead
            else:
                member_spouse = None
                parents = (primary.person, members[1].person)
                kids = []
                member_internal = False
                if self.chance(0.5):
                    member_referred, member_lead = primary.id, LeadSource.CUSTOMER_REFERRAL
                else:
                    member_referred, member_lead = referred, lead
                if member.marital is not MaritalStatus.SINGLE:
                    other = Gender.FEMALE if person.gender is Gender.MALE else Gender.MALE
                    member_spouse = self.person(
                        other, person.birth + dt.timedelta(days=rng.randint(-3 * 365, 3 * 365))
                    )
            family = self.family_of(member, member_spouse, kids, parents)
            customer = self.customer(
                member,
                city,
                district,
                family=family,
                home=home
                if index < 2
                else (self.address(city, district) if self.chance(0.6) else None),
                home_phone=home_phone if index < 2 else None,
                household=household,
                referred_by=member_referred,
                lead=member_lead,
                internal=member_internal,
                agent=agent,
                csr=csr,
            )
            member.customer = customer
            batch.customers.append(customer)
            if index == 0:
                self.referrers.append(member.id)
                if self.chance(0.06):
                    self.advocates.append(member.id)
        for member in members:
            batch.policies.extend(self.policies_of(member, members))
        return batch

    def customer(
        self,
        member: _Member,
        city: _City,
        district: str,
        *,
        family: list[FamilyMember],
        home: str | None,
        home_phone: Phone | None,
        household: Household | None,
        referred_by: str | None,
        lead: LeadSource,
        internal: bool,
        agent: str,
        csr: str | None,
    ) -> Customer:
        rng = self.rng
        person = member.person
        rid, native_place = self.id_number(person, city)
        education = person.education
        retired = person.retired_on(member.created_on)
        card: dict[str, Any] = {
            "gender": person.gender,
            "birth_date": person.birth,
            "id_number": rid,
            "native_place": native_place,
            "marital_status": member.marital,
            "education": education,
            "mobile": self.mobile() if self.chance(0.96) else None,
            "email": self.email(person) if self.chance(0.4) else None,
            "home_phone": home_phone,
            "home_address": home,
        }
        if retired:
            card["occupation_type"] = _RETIRED
        else:
            occupation = person.occupation
            card["position"] = occupation.position
            card["occupation_type"] = occupation.occupation_type
            card["employer"] = self.employer(occupation, city)
            if occupation.departments:
                card["department"] = self.pick(occupation.departments)
            work_district = self.pick(city.districts)
            card["employer_address"] = (
                f"{city.name}市{work_district}{self.pick(_ROADS)}{rng.randint(1, 999)}号"
                + (f"{self.pick(_BRANDS)}大厦{rng.randint(2, 30)}层" if self.chance(0.5) else "")
            )
            if self.chance(0.3):
                card["work_phone"] = self.landline(city)
            if self.chance(0.03):
                card["work_fax"] = self.landline(city)
        holdings = self.holdings(member) if self.chance(0.25) else ()
        return Customer.register(
            member.id,
            person.name,
            member.created_on,
            life=self.life(),
            family=family,
            holdings=holdings,
            lead_source=lead,
            referred_by=referred_by,
            is_internal=internal,
            csr_id=csr,
            agent_id=agent,
            household_id=household.id if household is not None else None,
            pdp=self.pick(tuple(PdpPersonality)) if self.chance(0.4) else None,
            risk_preference=(self.pick(tuple(RiskPreference)) if self.chance(0.5) else None),
            **card,
        )

    def holdings(self, member: _Member) -> tuple[Holding, ...]:
        result: list[Holding] = []
        earliest = max(add_years(member.person.birth, 20), add_years(member.created_on, -15))
        for _ in range(self.rng.randint(1, 2)):
            weights = _line_weights(member.age, None)
            line = self.rng.choices(tuple(weights), weights=tuple(weights.values()))[0]
            term, sum_assured, premium = self.terms(line, member.age)
            result.append(
                Holding(
                    insurer=self.pick(_OTHER_INSURERS),
                    line=line,
                    start_date=self.day_between(
                        min(earliest, member.created_on), member.created_on
                    ),
                    term_years=term,
                    sum_assured=sum_assured,
                    annual_premium=premium,
                )
            )
        return tuple(result)

    # -- policies -----------------------------------------------------------------------

    def terms(self, line: ProductLine, age: int) -> tuple[int, Money, Money]:
        """Term in years, sum assured and annual premium of a policy of ``line``."""
        rng = self.rng
        L = ProductLine  # noqa: N806
        cents = Decimal(rng.randint(0, 99)).scaleb(-2)
        if line is L.LIFE:
            term = self.pick((10, 20, 20, 30))
            sum_assured = rng.randrange(20, 201) * 10_000
            rate = 60 + age * 4 + rng.randint(-15, 15)
            return term, Money(sum_assured), Money(sum_assured * rate // 10_000 + cents)
        if line is L.CRITICAL_ILLNESS:
            term = self.pick((20, 30))
            sum_assured = rng.randrange(10, 81, 5) * 10_000
            rate = 80 + age * 5 + rng.randint(-20, 20)
            return term, Money(sum_assured), Money(sum_assured * rate // 10_000 + cents)
        if line is L.MEDICAL:
            low, high = (
                (150, 400) if age < 30 else (250, 600) if age < 40 else (400, 1000)
                if age < 50 else (800, 1800) if age < 60 else (1500, 3500)
            )  # fmt: skip
            return 1, Money(self.pick((2, 3, 4, 6)) * 1_000_000), self.money(low, high)
        if line is L.ACCIDENT:
            sum_assured = rng.randrange(10, 101, 10) * 10_000
            return 1, Money(sum_assured), Money(sum_assured * rng.randint(3, 10) // 10_000 + cents)
        if line is L.ANNUITY:
            term = self.pick((3, 5, 10, 10, 15, 20))
            premium = rng.choices((10, 20, 30, 50, 100, 200), weights=(30, 25, 15, 15, 10, 5))[0]
            premium *= 1000
            return term, Money(premium * term * rng.randint(105, 130) // 100), Money(premium)
        if line is L.UNIVERSAL_LIFE:
            term = self.pick((5, 10, 20))
            premium = rng.choices((5, 10, 20, 30, 50), weights=(30, 30, 20, 12, 8))[0] * 1000
            return term, Money(premium * term * 6 // 5), Money(premium)
        if line is L.INVESTMENT_LINKED:
            term = self.pick((5, 10, 15))
            premium = rng.choices((10, 20, 30, 50, 100), weights=(35, 30, 15, 12, 8))[0] * 1000
            return term, Money(premium * term * 105 // 100), Money(premium)
        if line is L.PROPERTY:
            sum_assured = rng.randrange(50, 301, 10) * 10_000
            return 1, Money(sum_assured), Money(sum_assured * rng.randint(2, 8) // 10_000 + cents)
        if line is L.AUTO:
            sum_assured = self.pick((1_000_000, 1_500_000, 2_000_000, 3_000_000))
            return 1, Money(sum_assured), self.money(3000, 12_000)
        return self.pick((1, 1, 1, 3)), Money(rng.randrange(10, 51) * 10_000), self.money(80, 1500)

    def campaign(self, start: dt.date) -> str | None:
        if start.month <= 3 and self.chance(0.4):
            return f"{start.year}开门红"
        if self.chance(0.08):
            return f"{start.year}{self.pick(_CAMPAIGNS)}"
        return None

    def lines_for(self, member: _Member, count: int) -> list[ProductLine]:
        customer = member.customer
        assert customer is not None
        weights = _line_weights(member.age, customer.risk_preference)
        chosen: list[ProductLine] = []
        for _ in range(count):
            options = [line for line in weights if line not in chosen]
            chosen.append(self.rng.choices(options, weights=[weights[o] for o in options])[0])
        return chosen

    def beneficiaries(self, insured: _Member, members: list[_Member]) -> tuple[Beneficiary, ...]:
        if not self.chance(0.65):
            return ()  # statutory heirs (法定受益人)
        customer = insured.customer
        assert customer is not None
        candidates: list[tuple[str | None, str, str]] = []  # (customer id, name, relation)
        for other in members:
            if other is insured or other.customer is None:
                continue
            relation = "子女" if other is members[-1] and len(members) == 3 else "配偶"
            if insured is members[-1] and len(members) == 3:
                relation = "父母"
            candidates.append((other.id, other.person.name, relation))
        for family in customer.family:
            if family.name is None or any(c[1] == family.name.value for c in candidates):
                continue
            relation = {"配偶": "配偶", "儿子": "子女", "女儿": "子女"}.get(family.relation, "父母")
            candidates.append((None, family.name.value, relation))
        if not candidates:
            return ()
        count = min(len(candidates), self.rng.choices((1, 2, 3), weights=(55, 35, 10))[0])
        shares = self.pick(_SHARES[count])
        return tuple(
            Beneficiary(
                share=Decimal(share).quantize(CENT),
                customer_id=cid,
                name=PersonName(name),
                relation=relation,
            )
            for (cid, name, relation), share in zip(candidates[:count], shares, strict=True)
        )

    def policies_of(self, member: _Member, members: list[_Member]) -> list[Policy]:
        rng = self.rng
        customer = member.customer
        assert customer is not None
        if not self.chance(0.88 if len(members) == 1 or member is members[0] else 0.7):
            return []  # a prospect (潜在客户): known to us, no purchase yet
        count = rng.choices((1, 2, 3, 4, 5), weights=(45, 30, 15, 7, 3))[0]
        first = member.created_on + dt.timedelta(days=rng.randint(3, 150))
        result: list[Policy] = []
        for i, line in enumerate(self.lines_for(member, count)):
            start = first if i == 0 else self.day_between(first, self.as_of)
            if start > self.as_of:
                continue
            insured = member
            if (
                len(members) > 1
                and line in _CLAIM_LINES | {ProductLine.ACCIDENT}
                and self.chance(0.15)
            ):
                insured = members[1] if member is members[0] else members[0]
            age = start.year - insured.person.birth.year
            term, sum_assured, premium = self.terms(line, age)
            policy = Policy(
                id=_policy_id(self.next_policy),
                number=f"PL{start.year}{self.next_policy:06d}",
                policyholder_id=member.id,
                insured_id=insured.id,
                product_line=line,
                start_date=start,
                term_years=term,
                sum_assured=sum_assured,
                annual_premium=premium,
                beneficiaries=(
                    self.beneficiaries(insured, members) if line in _BENEFICIARY_LINES else ()
                ),
                campaign=self.campaign(start),
            )
            self.next_policy += 1
            if start > self.as_of - dt.timedelta(days=20) and self.chance(0.3):
                result.append(policy)  # still in underwriting (核保中)
            elif policy.is_long_term:
                result.append(self.long_term(policy))
            else:
                result.extend(self.short_term_chain(policy))
        return result

    def long_term(self, policy: Policy) -> Policy:
        """Activate a long-term policy and live its years up to ``as_of``."""
        rng, as_of = self.rng, self.as_of
        start = policy.start_date
        p = policy.activate(start)
        roll = rng.random()
        if roll < 0.02:  # cancelled in the cooling-off period (犹豫期撤单)
            on = start + dt.timedelta(days=rng.randint(2, 15))
            return p.cancel(on, EndReason.CUSTOMER_REQUEST) if on <= as_of else p
        if roll < 0.024:  # fraud found at a claim or a review
            on = start + dt.timedelta(days=rng.randint(60, 900))
            if on <= as_of:
                return p.cancel(on, EndReason.FRAUD)
        resume = start
        year = 0
        while True:
            year += 1
            due = add_years(start, year)
            if due > as_of:
                return p
            if due <= resume:
                continue
            if year >= p.term_years:
                return p.mature(due)
            roll = rng.random()
            if p.product_line in _CLAIM_LINES and roll < 0.01:
                on = max(due - dt.timedelta(days=rng.randint(1, 300)), p.history[-1].on)
                return p.terminate_by_claim(on)
            if year >= 2 and 0.01 <= roll < 0.035:
                return p.surrender(min(due + dt.timedelta(days=rng.randint(0, 60)), as_of))
            if roll >= 0.965:
                grace_end = due + dt.timedelta(days=60)
                if grace_end > as_of:
                    return p  # unpaid, but still within the grace period
                p = p.record_missed_premium(due)
                if self.chance(0.15):  # malicious arrears (恶意欠费)
                    return p.cancel(grace_end, EndReason.NON_PAYMENT)
                p = p.lapse(grace_end)
                if not self.chance(0.55):
                    return p
                back = grace_end + dt.timedelta(days=rng.randint(20, 600))
                if back > as_of:
                    return p
                p = p.reinstate(back).renew(back)  # 复效: the arrears are paid
                resume = back
                continue
            p = p.renew(due)

    def short_term_chain(self, policy: Policy) -> list[Policy]:
        """A one-year policy, and the policies that renew it year after year (续保)."""
        rng, as_of = self.rng, self.as_of
        chain: list[Policy] = []
        current = policy
        while True:
            p = current.activate(current.start_date)
            end = add_years(current.start_date, current.term_years)
            if current.product_line in (ProductLine.AUTO, ProductLine.PROPERTY) and self.chance(
                0.006
            ):
                on = current.start_date + dt.timedelta(days=rng.randint(30, 300))
                if on <= as_of:
                    chain.append(p.cancel(on, EndReason.FRAUD))
                    return chain
            if self.chance(0.01):
                on = current.start_date + dt.timedelta(days=rng.randint(1, 200))
                if on <= as_of:
                    chain.append(p.cancel(on, EndReason.CUSTOMER_REQUEST))
                    return chain
            if end > as_of:
                chain.append(p)
                return chain
            chain.append(p.mature(end))
            if not self.chance(0.7):
                return chain
            premium = Money(
                (current.annual_premium.amount * rng.randint(90, 110) / 100).quantize(CENT)
            )
            current = attrs.evolve(
                policy,
                id=_policy_id(self.next_policy),
                number=f"PL{end.year}{self.next_policy:06d}",
                start_date=end,
                annual_premium=premium,
                campaign=self.campaign(end),
            )
            self.next_policy += 1


def _write(uow: UnitOfWork, batch: _Batch, on: dt.date, erase: Sequence[str]) -> None:
    """Store ``batch`` and erase the customers ``erase`` on ``on``, in one transaction."""
    with uow:
        uow.households.add_many(batch.households)
        uow.customers.add_many(batch.customers)
        uow.policies.add_many(batch.policies)
        uow.complaints.add_many(batch.service.complaints)
        uow.interactions.add_many(batch.service.interactions)
        uow.surveys.add_many(batch.service.responses)
        uow.churns.add_many(batch.churns)
        for customer in sorted(erase):  # in id order, as erased_among locks (erase_in)
            erase_in(uow, customer, on)
        uow.commit()


def _churned(
    policies: Sequence[Policy], as_of: dt.date, service: ServiceSampler
) -> list[ChurnRecord]:
    """The churn records due as of ``as_of`` for the policyholders of a batch, as staff
    analysed them: what ``detect_churn`` records on a store holding the batch, since a
    batch holds whole family units and so every policy of its policyholders."""
    held = by_holder(policies)
    found: list[ChurnRecord] = []
    for customer_id in sorted(held):
        due = churn_on(customer_id, held[customer_id], as_of)
        if due is not None:
            found.append(service.analyse(due))
    return found


#: The kinds of service records a batch holds, as :class:`ServiceRecords` names them.
_SERVICE_RECORDS = ("complaints", "interactions", "responses")


def _stored(uow: UnitOfWork, cid: str) -> Customer | None:
    """The stored customer ``cid``, or None."""
    with uow:
        try:
            return uow.customers.get(cid)
        except NotFound:
            return None


def _already_written(uow: UnitOfWork, batch: _Batch) -> bool:
    """Whether an earlier run committed ``batch`` (each batch is one transaction, so its
    last customer tells).

    Raises:
        ValidationError: its last customer is stored but differs (the store holds a sample
            made with another seed, size or date), or only its first is stored (the store
            holds a sample cut into other batches: another size or ``batch_size``).
    """
    last = batch.customers[-1]
    stored = _stored(uow, last.id)
    if stored is None:
        if _stored(uow, batch.customers[0].id) is not None:
            raise ValidationError(
                "batch_size",
                "sample.other_batches",
                "the database holds part of a sample cut into other batches: run again "
                "with the size and batch size of the run that made it, or use an empty database",
            )
        return False
    _check_same(stored, last)
    return True


def _check_same(stored: Customer, made: Customer) -> None:
    """Refuse a stored sample customer that differs from the one made again.

    Raises:
        ValidationError: they differ: the store holds another sample book.
    """
    if attrs.evolve(stored, version=made.version) != made:
        raise ValidationError(
            "seed",
            "sample.other_book",
            "the database holds part of another sample book (another seed, size or date): "
            "use an empty database",
        )


def _to_erase(sampler: _Sampler, customers: int) -> list[str]:
    """The customers whose personal data the sample erases (one in a thousand, never the
    first): drawn once the whole sample is made."""
    numbers = sorted(sampler.rng.sample(range(2, customers + 1), customers // 1000))
    return [customer_id(n) for n in numbers]


def generate_sample(
    uow: UnitOfWork,
    customers: int = 3000,
    seed: int = 2024,
    as_of: dt.date = DEFAULT_AS_OF,
    progress: ProgressCallback | None = None,
    *,
    batch_size: int = 500,
) -> SampleStats:
    """Fill the store with a realistic, deterministic sample portfolio.

    Customers come in family units (singles, couples sharing a household,
    couples with an adult child), registered over the ten years before
    ``as_of``, with ids ``C000001``, ``C000002`` …; households ``H00001`` …;
    policies ``P0000001`` … numbered ``PL<start year><sequence>``. A few
    customers' personal data is erased at the end, on request (§10.4), in the last
    batch's transaction: a store holding the last customer holds the whole sample.

    Idempotent: when the store already holds customer ``C000001`` and the last one asked
    for (or more), and its ``C000001`` is this sample's, nothing is added and
    ``already_present`` is set. Resumable: when it holds
    the first but not the last, a run was interrupted; called again with the same arguments,
    it makes the same sample, checks and keeps the batches that run committed, and writes
    the rest (``resumed`` says how many customers were kept).

    Args:
        uow: a unit of work on the store (not inside a ``with`` block).
        customers: how many customers to create.
        seed: the seed of the random generator; same seed, same portfolio.
        as_of: the sample is built up to this date; nothing happens after it.
        progress: called as ``progress(done, total)`` after each batch.
        batch_size: about how many customers each transaction writes.

    Raises:
        ValidationError: ``customers`` or ``batch_size`` is below 1, or the store holds
            part of a sample made with another seed, size, date or batch size.
    """
    if customers < 1:
        raise ValidationError("customers", "sample.size", "must be at least 1")
    if batch_size < 1:
        raise ValidationError("batch_size", "sample.size", "must be at least 1")
    first = customer_id(1)
    stored_first = _stored(uow, first)
    if stored_first is not None and _stored(uow, customer_id(customers)) is not None:
        # the whole sample is stored, if it is this one: its first customer tells
        _check_same(stored_first, _Sampler(seed, as_of, customers).unit(customers).customers[0])
        return SampleStats(seed, as_of, customers, True, 0, 0, 0, 0, 0, first, None)
    resuming = stored_first is not None
    resumed = 0
    erased: list[str] = []
    sampler = _Sampler(seed, as_of, customers)
    service = ServiceSampler(seed, as_of)
    added = households = policies = batches = 0
    made: Counter[str] = Counter()
    pending = _Batch()
    while added < customers:
        unit = sampler.unit(customers - added)
        records = service.records(unit.customers, unit.policies)
        pending.households += unit.households
        pending.customers += unit.customers
        pending.policies += unit.policies
        for kind in _SERVICE_RECORDS:
            getattr(pending.service, kind).extend(getattr(records, kind))
        added += len(unit.customers)
        if len(pending.customers) >= batch_size or added >= customers:
            pending.churns = _churned(pending.policies, as_of, service)
            resuming = resuming and _already_written(uow, pending)
            if resuming:
                resumed += len(pending.customers)
            else:  # once one batch is missing, so are the later ones
                made["churns"] += len(pending.churns)
                for kind in _SERVICE_RECORDS:
                    made[kind] += len(getattr(pending.service, kind))
                if added >= customers:  # the last batch: stored with the erasures
                    erased = _to_erase(sampler, customers)
                _write(uow, pending, as_of, erased)
                households += len(pending.households)
                policies += len(pending.policies)
                batches += 1
            pending = _Batch()
            if progress is not None:
                progress(added, customers)
    return SampleStats(
        seed=seed,
        as_of=as_of,
        requested=customers,
        already_present=False,
        customers=added - resumed,
        households=households,
        policies=policies,
        erased=len(erased),
        batches=batches,
        first_id=first,
        last_id=customer_id(added),
        complaints=made["complaints"],
        interactions=made["interactions"],
        responses=made["responses"],
        churns=made["churns"],
        resumed=resumed,
    )
