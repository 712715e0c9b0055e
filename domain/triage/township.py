"""Which township of the county a case belongs to (属地): the place where the dispute arises, not the first place
a citizen names.

Every place mention (a township's full or short name, a village or community, an alias, a place outside the
county; domain/triage/places.py) gets a role from the words around it in its clause: where the dispute arises
(the workplace, the site, the land, the house, the hospital, the spot of the accident; labelled 事发地) or where
a person lives, is registered, comes from or passes through (住所/户籍/来处). The cue phrases are below, each
with its weight; the rules of which place counts are domain/triage_data/GUIDELINES.md ("Township").

The township with the strongest dispute-place evidence wins. When a second township (or a place outside the
county) stays close to it, or the only name spans several townships (县城), the placement is not confident:
the case waits for a clerk with each township suggested and the mention that points to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.taxonomy import Taxonomy
from domain.triage.place_roles import WINDOW, MentionView, PlaceRoleModel, features, probability, shipped_model
from domain.triage.places import KIND_ZH, STEM_AFTER, Gazetteer, Place, gazetteer_for

# Short names that are also everyday words: each counts as a place except in the contexts where it is the
# word ("走几步路", "墙上张贴", "下各级部门", "深度和广度", "吵了一大战").
FALSE_FRIENDS: dict[str, re.Pattern[str]] = {
    "步路": re.compile(r"(?<=[几一两三半走多百十])步路"),
    "上张": re.compile(r"上张(?=贴)|(?<=[墙贴])上张"),
    "下各": re.compile(r"下各(?=[种类级位地方部样自])"),
    "广度": re.compile(r"(?<=[的和与盖有])广度|广度(?=[和与]|不够|很|大)"),
    "大战": re.compile(r"(?<=[一场次打吵商价])大战|大战(?=一场|了一|起来)"),
}

# A clause: the words a role cue may reach. Spaces split clauses too (typed and transcribed speech).
_CLAUSE_END = re.compile(r"[，。！？；、,.!?;\s]")
_LEFT_REACH, _RIGHT_REACH = 12, 16


@dataclass(frozen=True)
class Cue:
    zh: str  # shown in the explanation
    side: str  # left: just before the mention | right: just after it | clause: anywhere in its clause
    pattern: re.Pattern[str]
    weight: float  # > 0: the dispute is here; < 0: a person's home, origin or way


def _cue(zh: str, side: str, rx: str, weight: float) -> Cue:
    if side == "left":
        rx = f"(?:{rx})$"
    elif side in ("right", "adjacent"):
        rx = f"^(?:{rx})"
    return Cue(zh, side, re.compile(rx), weight)


_SITE = (
    r"厂|公司|工地|工程|作坊|车间|基地|农场|茶场|场|矿|店|超市|市场|菜场|饭店|酒店|宾馆|民宿|农家乐|景区|古镇|"
    r"医院|卫生院|卫生室|诊所|美容院|健身房|小区|物业|学校|幼儿园|站|园区|"
    r"合伙|经营|开了?一?[家个间爿]"  # running a business there
)
_LAND = r"山|林|田|地|宅基地|宅|房|屋|坟|果园|茶园|竹林|橘|桃|溪|河|水渠|(?<!搭)桥|路灯|自来水|水管|猪栏|鸡棚|院子|门口"
_ROAD = r"路上|路口|路段|公路|省道|国道|街上|老街|山路|村口|境内|那段路|十字路口|小路|街"
_EVENT = r"被|撞|打(?!工)|咬|摔|出事|出了|买|租|借|欠|拖欠|征|拆|占|砍|排|臭|吵|烧|掉|倒|挖|堵"

CUES: tuple[Cue, ...] = (
    # where a person lives, is registered or comes from
    _cue("住在", "left", r"住在|住|家住|居住于|居住在|现居|现住|现居住于|住的|人住|平时住", -3.0),
    _cue("家在", "left", r"家在|家是|我家|家就在", -2.5),
    # the family's home place (老家, 娘家, 屋里): where its house and land are (see _FAMILY_PROPERTY)
    _cue("老家", "left", r"老家|老家是|老家在|老家就在|屋里在|屋里是", -2.5),
    # a married woman's parents' home: where she comes from; their house counts only when the matter is it
    _cue("娘家", "left", r"娘家|娘家是|娘家在|娘家就在", -2.5),
    _cue(
        "户籍",
        "left",
        r"户口在|户口|户籍在|户籍|原籍|籍贯|户口.{0,4}迁(?:到|去|进|入)|户口(?:还|一直|仍然|仍|都)?(?:是|在)(?:娘家|老家)?",
        -3.0,
    ),
    # "是" as a copula, not the conjunctions 但是, 可是, 还是 …
    _cue(
        "是…的人",
        "left",
        r"(?<![但可还就要总只于不倒正真硬像说讲也])是|系|来自|都是|我们是|本身是|搬到|搬来",
        -2.0,
    ),
    # where a woman married to: her household now (the house, the neighbours, the family are there)
    _cue("嫁到", "left", r"嫁到|嫁在|嫁过来到|嫁去|嫁出去到|嫁进", -1.0),
    _cue("人在", "left", r"人在|我人在|人住", -1.5),
    _cue(
        "…人",
        "right",
        r"人(?!家)|的人|本地人|居民|村民|个[，,\s]|个$|的[，,\s]|的$|那边过来|过来|来的|出发|回来|出去的|出来的|嫁出来|嫁出去|嫁过来|嫁过去",
        -2.0,
    ),
    _cue("从…来", "left", r"从|我从|骑车从|开车从", -2.5),
    _cue("跑回", "left", r"跑回|逃回|躲回|溜回|跑回了|跑到娘家|回娘家", -2.0),
    _cue("经过", "left", r"经过|路过|途经", -1.0),
    _cue("通往", "left", r"通往|通向|开往|去往|前往|驶往", -1.5),  # where a road or a trip leads, not where it is
    # right after the name: the home a person lives in (租房住, 家里), not the matter's place
    _cue(
        "住处",
        "adjacent",
        r"(?:镇|乡|街道)?的?(?:家里|家中|租房子?住|租了?房子?|租的房子?|住着|住了|买了房子?|买房子?|住$|成家|安家|定居|落户)",
        -2.5,
    ),
    # right after the name, a person of that place ("白塔的老板把那片山承包去", "下各来的一个人把店砸了"): the
    # name is whose, not where
    _cue(
        "…的老板",
        "adjacent",
        r"(?:镇|乡|街道)?(?:村)?(?:那边)?(?:过来的|来的|的)?(?:一个|有个|那个|几个)?"
        r"(?:老板|包工头|老总|工头|贩子|猪贩子|商贩|买家|客户|生意人|男子|女子|男的|女的|小伙子?|青年|人(?![家民])|[\u4e00-\u9fff]某)"
        r"(?!的?(?:厂|公司|店|工地|作坊|场|那里|那儿|手下|家|饭店|车间))",
        -2.0,
    ),
    # a court or an arbitration body is not the place of the matter (GUIDELINES.md: litigation)
    _cue("法院", "adjacent", r"(?:市|县|区)?(?:的)?(?:人民)?(?:法院|中院|中级法院|仲裁委|仲裁院|劳动仲裁)", -3.0),
    # where the dispute arises
    _cue("归属", "left", r"(?:田|地|山|林|房子|屋|坟|桥|山林|林地|宅基地)(?:是|属于|归|在)", 4.0),
    _cue("事发地点是", "left", r"地方是|地点是|地方在|地点在|事发地是?|出事地点是?|发生在|出事在", 4.0),
    _cue("在", "left", r"在|于|到|跑到|来到|回|位于|坐落在|坐落于|开在", 1.0),
    _cue("去", "left", r"去", 0.5),
    _cue("在…上班", "right", r"(?:那边|这边)?(?:上班|打工|工作|做事|做工|干活|务工)", 0.5),  # by category below
    _cue("途经…时", "right", r".{0,6}(?:时|的时候|路段|那段)", 1.5),
    _cue("场所", "right", rf"(?:镇|乡|街道)?.{{0,16}}?(?:{_SITE})", 2.5),
    _cue("土地房屋", "right", rf"(?:镇|乡|街道)?(?:老家|那边|这边|那里)?.{{0,6}}?(?:{_LAND})", 2.0),
    _cue("路段", "right", rf"(?:镇|乡|街道)?.{{0,4}}?(?:{_ROAD})", 2.5),
    _cue("事由", "right", rf".{{0,8}}?(?:{_EVENT})", 1.0),
    _cue("老家的…", "right", r"老家(?:的|那边|那里)?(?:房|屋|山|田|地|宅|祖|老房|隔壁)", 2.0),
    _cue("交界", "clause", r"交界|之间|两个村|两村|两个乡|两个镇|两地|两边都|都说是自己", 0.0),
)
_BORDER = next(c for c in CUES if c.zh == "交界")
_SITE_NAME = re.compile(r"(?:医院|卫生院|卫生室|诊所|景区|古镇|市场|厂|公司)$")

# Family matters: the household's place counts (GUIDELINES.md: a child's maintenance, support of a parent).
# (not "做女儿的": the caller describing herself)
_KIN_TAIL = r"[^，。！？；,.!?;\s]{0,8}[，,\s]?[^，。！？；,.!?;\s]{0,8}$"
_CHILDREN = r"孩子|女儿|儿子|小孩|孙子|孙女"
_ELDERS = (
    r"老人|我爸|我妈|我娘(?!家)|我爹|阿娘|姆妈|老娘|老爹|父亲|母亲|其母|其父|婆婆|公公|岳父|岳母|丈母娘|外婆|外公|奶奶|爷爷|"
    r"老母亲|老父亲|老头子?"
)
_FAMILY_HOME = re.compile(rf"(?<![做当是])(?:{_CHILDREN}|{_ELDERS}){_KIN_TAIL}")
# In a support case (赡养) the parent's home counts and a son or daughter is the other side; in a maintenance
# case (抚养) the child's home counts.
_SUPPORT_HOME = re.compile(rf"(?:{_ELDERS}){_KIN_TAIL}")
_MAINTENANCE_HOME = re.compile(rf"(?<![做当是])(?:{_CHILDREN}){_KIN_TAIL}")
_FAMILY_AWAY = re.compile(
    r"(?:前夫|前妻|他爸|她爸|他妈|她妈|孩子爸|孩子他爸|孩子她爸|孩子妈|孩子他妈|孩子她妈|孩他爸|孩他妈|娃他爸|娃他妈|男方|"
    r"女方|对方|哥|姐|弟|妹|老二|老三|老大)[^，。！？；,.!?;\s]{0,6}$"
)
_WITH_ME = re.compile(r"孩子跟[我着]|跟我过|随其居住|随我|跟着我|(?:孩子|小孩|儿子|女儿).{0,3}在我")
# "跟小儿子住在X", "女儿跟着我住在X": the household the child or the parent lives in
_OTHER_SIDE = frozenset({"跑回", "娘家"})  # in a family matter: where the other side went, or came from
_PARENTS_PROPERTY = re.compile(
    r"(?:我爸|我妈|父母|爹|娘|老人|爷爷|奶奶|父亲|母亲)(?:留下|传下|分给|的(?:房|老屋|山|田|地|宅))"
)
_MEMBER_AFTER = re.compile(r"(?:镇|乡|街道)?(?:村)?(?:的)?(?:村民|社员|股民|居民)")
# a quarrel of the couple (divorce, violence, betrothal gifts), not the support of a parent
_COUPLE = re.compile(r"离婚|打我|打人|家暴|男方|老公|丈夫|彩礼|女婿")
_SUPPORT = re.compile(r"赡养|养老|我爸|我妈|我娘(?!家)|老人|父亲|母亲")
_FAMILY_CASE = re.compile(r"抚养|赡养|离婚|探视|监护")
_LIVES_WITH = re.compile(r"(?:跟|和|随)着?.{0,4}(?:一起)?住(?:在|到)?$")

# Where the matter is the family's house or land, the family's home place (老家, 娘家) is where it lies.
_PROPERTY_CATEGORIES = {"land_forest", "housing_homestead", "land_acquisition", "neighbor", "litigation"}
_PROPERTY = re.compile(r"老房|老屋|房子|宅|田|山|承包地|自留地|坟|院子|祖屋|林地|茶园|果园|竹|地基|围墙|墙脚|下水|水管")

# A house or field said right after the name ("家在X村的承包田", "X村有我爷爷留下的老屋"): the matter lies there,
# whatever 家在/住在 said before it.
_PROPERTY_AFTER = re.compile(
    r"(?:镇|乡|街道)?(?:村)?(?:的|那边的?|有)?(?:我|我家|我们家|我爷爷|我爸|我妈|我父亲|祖上)?.{0,6}?"
    r"(?:承包田|承包地|自留地|责任田|田|地块|山林|林地|山|房子|老屋|老房|祖屋|宅基地|门面|店面|厂房|坟)"
)
# A lease: the let property's place counts (GUIDELINES.md), not where the tenant or the landlord lives.
_LEASE = re.compile(r"租给|出租|房租|租金|租了?(?:我|他|她)(?:家)?的|承租|租赁")
_LET_PROPERTY = re.compile(
    r"(?:镇|乡|街道)?(?:村)?(?:的|那边的?|有)?.{0,6}?(?:门面|店面|房子|房|厂房|仓库|田|地|山|鱼塘|场地)"
)
_CHILD = re.compile(rf"{_CHILDREN}|娃")

# A loan or unpaid money between two towns: the borrower's (the one who must pay) township counts.
# "借给我表哥": the caller lent to a relative or an acquaintance (not "借给我": lent to the caller)
_LENT_TO = r"表|堂|哥|姐|弟|妹|叔|舅|姨|侄|外甥|女婿|儿子|女儿|孙|亲家|干|朋友|同学|亲戚|邻居|老乡|同事"
_CALLER_LENDS = re.compile(
    r"(?:问|向|找|跟)我(?:借|拿)|借(?:了)?我(?:的|家|老伴|老公|老婆|爸|妈)?.{0,4}[0-9一二两三四五六七八九十百千万几]|"
    r"欠(?:了)?我|我借给|借给(?:了)?(?:他|她|对方)|借了?.{0,6}给(?!我)|我.{0,4}借出|(?:在|从)(?:我|来访人|来电人|申请人|其)(?:开|家)?.{0,12}赊|赊(?:了)?我|"
    r"对方(?:尚|还|仍)?欠|供货|欠(?:我|其)?货款|"
    rf"借给我的?(?:{_LENT_TO})|"
    r"(?:他|她|渠|对方)[^。！？]{0,16}?(?:还|仍|尚)欠(?!我的|了我的)|"
    r"卖(?:了)?.{0,12}给.{0,24}(?:没给|没付|不给|未付|拖|欠)"
)
_CALLER_BORROWS = re.compile(
    r"我(?:问|向|找|跟).{1,12}借(?!给)|我欠|(?<![问向找跟])我借了(?!.{0,6}给)|"
    rf"借给我(?!的?(?:{_LENT_TO}))|借了.{{0,6}}给我"
)
_THIRD_PARTY = re.compile(
    r"哥|姐|弟|妹|表|堂|叔|舅|姨|亲戚|朋友|同学|老乡|老板|对方|他|她|渠|一个|有个|邻居|人家|同事|某|贩子|买家|客户"
)
_SELF = re.compile(r"我|其|来访人|来电人|申请人|本人")
_THIRD_PARTY_AFTER = re.compile(
    r"(?:镇|乡|街道)?.{0,6}?(?:老板|朋友|亲戚|老乡|包工头|老总|厂|公司|村民|贩子|买家|客户|生意人)|"
    r"(?:镇|乡|街道)?(?:村)?的人"
)
_SELF_AFTER = re.compile(r"(?:镇|乡|街道)?(?:人|的[，,\s]|的$|个)")  # "福应人 借钱给…": the caller, unnamed

# A consumer dispute: the seller's place (the business), not the buyer's home.
_SELLER = re.compile(r"(?:卖家|商家|店家|卖方|网店|店铺|厂家|商店)(?:是|在|位于|开在)?$")
_SELLER_AFTER = re.compile(r"(?:市|县|那边|那里)?(?:的|那家|一家)?.{0,4}?(?:商家|卖家|店家|网店|店铺|厂家|店|公司)")

# Below this margin between the best township and the next, a person decides.
MARGIN = 2.0
# A place outside the county, or a name spanning townships (县城), leads only with this much dispute evidence.
OUTSIDE_CLEAR = 0.25
SPAN_CLEAR = 2.5


@dataclass
class Mention:
    start: int
    end: int
    name: str
    townships: tuple[str, ...]  # () outside the county
    kind: str
    score: float = 0.0  # > 0: where the dispute arises
    cues: list[str] = field(default_factory=list)
    source: str = "description"  # or address
    left: str = ""  # the words around the name, other names blanked (what the role model reads)
    right: str = ""
    probability: float | None = None  # the role model's: the dispute arises here (set when places compete)

    @property
    def role(self) -> str:
        if self.probability is not None:
            if self.probability >= 0.5:
                return "dispute"
            return "person" if self.score < 0 else "unknown"
        return "dispute" if self.score > 0 else ("person" if self.score < 0 else "unknown")

    @property
    def keys(self) -> tuple[str | None, ...]:
        return self.townships if self.townships else (None,)

    def view(self) -> MentionView:
        return MentionView(self.name, self.kind, self.townships, self.score, tuple(self.cues), self.left, self.right)


@dataclass
class Candidate:
    township: str | None  # None: outside the county
    score: float
    mention: Mention


@dataclass
class Placement:
    township: str | None
    confident: bool  # safe to route without a person
    confidence: float
    candidates: list[Candidate]  # best first, one per township (None = outside the county)
    mentions: list[Mention]
    reason: str  # in Chinese, for the case view and the triage preview

    @property
    def suggested(self) -> list[str]:
        return [c.township for c in self.candidates if c.township is not None]


def _false_friend(text: str, start: int, name: str) -> bool:
    rx = FALSE_FRIENDS.get(name)
    if rx is None:
        return False
    return any(m.start() <= start < m.end() for m in rx.finditer(text))


def find_mentions(gazetteer: Gazetteer, text: str) -> list[Mention]:
    """Each place name in the text, longest names first where two overlap."""
    taken = [False] * len(text)
    found: list[Mention] = []
    for place in gazetteer.places:
        start = text.find(place.name)
        while start >= 0:
            end = start + len(place.name)
            if not any(taken[start:end]) and _counts(place, text, start, end):
                for i in range(start, end):
                    taken[i] = True
                found.append(Mention(start, end, place.name, place.townships, place.kind))
            start = text.find(place.name, start + 1)
    found.sort(key=lambda m: m.start)
    merged: list[Mention] = []
    for m in found:
        prev = merged[-1] if merged else None
        if (
            prev
            and prev.end == m.start
            and prev.kind in ("township", "short")
            and (m.kind in ("village", "stem") or (m.kind == "alias" and set(prev.townships) <= set(m.townships)))
        ):
            # "安岭乡岭脚村", "白塔镇神仙居": one address; the township named in it decides
            merged[-1] = Mention(prev.start, m.end, prev.name + m.name, prev.townships, prev.kind)
            continue
        if prev and prev.end == m.start and len(prev.townships) > 1 and set(m.townships) <= set(prev.townships):
            # "县城福应街道": the name that spans townships, then the one of them meant
            merged[-1] = Mention(prev.start, m.end, prev.name + m.name, m.townships, m.kind)
            continue
        merged.append(m)
    return merged


# Village stems of three characters that are also everyday words: they count only said as a place.
WORDY_STEMS = frozenset({"石板路", "三亩田", "九龙山", "观音岩", "东横街", "山枣园", "东山头"})
_STEM_AS_PLACE_AFTER = re.compile(r"的|个|人|村|那|这|老家")
_STEM_AS_PLACE_BEFORE = re.compile(r"(?:在|住|是|去|到|回|我们|老家)$")


def _counts(place: Place, text: str, start: int, end: int) -> bool:
    if place.kind == "short" and _false_friend(text, start, place.name):
        return False
    if place.kind == "stem":
        # a village's short name is often a word too (石板路, 胜利): it counts said as a place
        if STEM_AFTER.match(text, end):
            return True
        if len(place.name) > 2 and place.name not in WORDY_STEMS:
            return True
        return len(place.name) > 2 and bool(
            _STEM_AS_PLACE_AFTER.match(text, end) or _STEM_AS_PLACE_BEFORE.search(text, 0, start)
        )
    return True


MASK = "〇"


def _masked(text: str, mentions: list[Mention]) -> str:
    """The text with every place name blanked out, so that a cue never reads a name as a word (田 in 田市镇,
    山 in 湫山乡, 林 in 双林村)."""
    chars = list(text)
    for m in mentions:
        chars[m.start : m.end] = MASK * (m.end - m.start)
    return "".join(chars)


def _clause(text: str, start: int, end: int) -> tuple[str, str, str]:
    left_start = start
    while left_start > 0 and start - left_start < _LEFT_REACH and not _CLAUSE_END.match(text[left_start - 1]):
        left_start -= 1
    right_end = end
    while right_end < len(text) and right_end - end < _RIGHT_REACH and not _CLAUSE_END.match(text[right_end]):
        right_end += 1
    return text[left_start:start], text[end:right_end], text[left_start:right_end]


def _sentence_left(text: str, start: int) -> str:
    """The words before a mention back to the sentence's start (at most 20 characters)."""
    i = start
    while i > 0 and start - i < 20 and text[i - 1] not in "。！？!?；;":
        i -= 1
    return text[i:start]


def _family_home(text: str) -> re.Pattern[str]:
    support, maintenance = "赡养" in text, "抚养" in text
    if support and not maintenance:
        return _SUPPORT_HOME
    if maintenance and not support:
        return _MAINTENANCE_HOME
    return _FAMILY_HOME


_CHILD_WITH = re.compile(r"(?:孩子|儿子|女儿|小孩|娃).{0,2}(?:随|跟)着?.{0,6}$")


def _child_nearer(left: str) -> bool:
    """ "前妻带着儿子在X", "儿子随前妻在X": the child lives there (with the other parent)."""
    if _CHILD_WITH.search(left):
        return True
    child = [c.start() for c in _CHILD.finditer(left)]
    away = [a.start() for a in _FAMILY_AWAY.finditer(left)]
    return bool(child) and (not away or max(child) > min(away))


def _debtor_side(text: str, m: Mention, left: str, right: str) -> str | None:
    """Whose place a mention is in a loan: the caller's ("self") or the other party's ("other")."""
    if _THIRD_PARTY_AFTER.match(right):  # "官路镇的一个老板": whoever spoke before, the name is the other's
        return "other"
    if _THIRD_PARTY.search(left):
        return "other"
    if _SELF.search(left):
        return "self"
    if left in ("", "是", "系") and _THIRD_PARTY.search(_sentence_left(text, m.start)[-10:]):
        return "other"  # "有个包工头，是白塔镇的": the person of the clause before
    if _THIRD_PARTY_AFTER.match(right):
        return "other"
    if _SELF_AFTER.match(right):
        return "self"
    return None


def _score(text: str, m: Mention, category: str | None) -> None:
    left, right, clause = _clause(text, m.start, m.end)
    # the nearest cue of each side decides that side; the strongest dispute cue after the name adds
    left_cues = [c for c in CUES if c.side == "left" and c.pattern.search(left)]
    if left_cues:
        # the longest match is the most specific ("住在" over "在")
        best = max(left_cues, key=lambda c: len(c.pattern.search(left).group()))  # type: ignore[union-attr]
        m.score += best.weight
        m.cues.append(best.zh)
    right_cues = [c for c in CUES if c.side == "right" and c.pattern.search(right)]
    person = [c for c in right_cues if c.weight < 0]
    place = [c for c in right_cues if c.weight > 0]
    adjacent = [c for c in CUES if c.side == "adjacent" and c.pattern.search(right)]
    if adjacent:  # the words right after the name say it is a home: they outweigh a dispute word further on
        m.score += adjacent[0].weight
        m.cues.append(adjacent[0].zh)
    elif place:
        best = max(place, key=lambda c: c.weight)
        m.score += best.weight
        m.cues.append(best.zh)
    elif person:
        m.score += person[0].weight
        m.cues.append(person[0].zh)
    if not place and _SITE_NAME.search(m.name):  # the name is a site itself (台州医院)
        m.score += 2.5
        m.cues.append("场所")
    if "在…上班" in m.cues:  # a workplace is the place of a labour dispute, elsewhere where a person spends the day
        m.score += 2.0 if category == "labor" else -1.5
    if "经过" in m.cues and "途经…时" in m.cues:  # 途经X时被撞: the spot of the accident
        m.score = 3.0
    if category == "village_affairs" and "户籍" in m.cues:  # the village one is a member of (户口所在村)
        m.score += 5.5
        m.cues.append("户口所在村（村务）")
    elif category == "village_affairs" and "老家" in m.cues:  # one's home village, where one is a member
        m.score += 4.0
        m.cues.append("老家所在村（村务）")
    elif category == "village_affairs" and _MEMBER_AFTER.match(right):
        m.score = max(m.score, 0.0) + 3.0  # 系X村村民: a member there
        m.cues.append("所在村村民（村务）")
    if category in _PROPERTY_CATEGORIES and (
        ("老家" in m.cues and _PROPERTY.search(text))
        or ("娘家" in m.cues and (_PROPERTY.search(right) or _PARENTS_PROPERTY.search(text)))
    ):
        m.score = max(m.score, 0.0) + 2.0
        m.cues.append("老家的房屋土地")
    if category == "consumer" and (_SELLER.search(left) or _SELLER_AFTER.match(right)):
        m.score = max(m.score, 0.0) + 3.5
        m.cues.append("商家所在地（消费）")
    if category in _PROPERTY_CATEGORIES and _PROPERTY_AFTER.match(right):
        m.score = max(m.score, 0.0) + 2.5
        m.cues.append("紧接房屋土地")
    lease = category in ("contract_debt", "housing_homestead", "land_forest") and _LEASE.search(text)
    if lease and _LET_PROPERTY.match(right):
        m.score = max(m.score, 0.0) + 3.0
        m.cues.append("出租物所在地（租赁）")
    elif category == "contract_debt" and not lease:
        lends, borrows = bool(_CALLER_LENDS.search(text)), bool(_CALLER_BORROWS.search(text))
        side = _debtor_side(text, m, left, right) if lends != borrows else None
        if side is not None:
            if (side == "other") == lends:
                m.score = max(m.score, 0.0) + 3.0
                m.cues.append("借款人所在地（借贷）")
            else:
                m.score = min(m.score, 0.0) - 1.0
                m.cues.append("出借人所在地（借贷）")
    if category == "marriage_family" or (category == "litigation" and _FAMILY_CASE.search(text)):
        wide = _sentence_left(text, m.start)
        if _LIVES_WITH.search(left):
            m.score = max(m.score, 0.0) + 4.0
            m.cues.append("同住的家（家事纠纷）")
        elif "嫁到" in m.cues and _COUPLE.search(text) and not _SUPPORT.search(text):
            m.score = max(m.score, 0.0) + 2.5
            m.cues.append("婚后的家（家事纠纷）")
        elif _FAMILY_AWAY.search(left) and not _child_nearer(left):
            m.score = min(m.score, 0.0) - 2.0
            m.cues.append("另一方住处（家事纠纷）")
        elif (home := _family_home(text)).search(left) or home.search(wide):
            m.score = max(m.score, 0.0) + 2.5
            m.cues.append("孩子或老人住处（家事纠纷）")
        elif m.score < 0 and _WITH_ME.search(text) and not _OTHER_SIDE.intersection(m.cues):
            m.score = 2.0
            m.cues.append("孩子随申请人住（家事纠纷）")
        elif m.score < 0 and not _OTHER_SIDE.intersection(m.cues):
            m.score = 1.0  # the caller's own household is where a family matter is, unless another is named
            m.cues.append("家庭住处（家事纠纷）")
    if m.kind == "outside":
        m.score -= 1.5  # a dispute outside the county needs clear words: a call to the county is most often about it
    if m.kind in ("village", "stem"):
        m.score += 0.5  # a village is said when it is where the matter is more often than a township
    if _BORDER.pattern.search(text):
        m.cues.append("交界")


@dataclass(frozen=True)
class Scale:
    """The thresholds of a decision, on the scale of the evidence it compares: cue scores, or the role model's
    probabilities."""

    margin: float  # the best township leads the next by this much, or a person decides
    weak: float  # with a second place named, the winner needs at least this much evidence
    outside_clear: float  # a place outside the county leads only with this much evidence
    outside_weak: float  # … and is placed without a person only with this much
    span_clear: float  # a name spanning townships (县城) keeps the lead only with this much
    per_margin: float  # confidence gained per unit of margin


CUE_SCALE = Scale(
    margin=MARGIN, weak=1.0, outside_clear=OUTSIDE_CLEAR, outside_weak=2.0, span_clear=SPAN_CLEAR, per_margin=0.1
)
# The margin was chosen leaving one writer's file out at a time (docs/benchmarks.md): at 0.5 between the two best
# townships' probabilities, 86 % of those texts were placed without a person and 99.8 % of those were right.
ROLE_SCALE = Scale(margin=0.5, weak=0.5, outside_clear=0.5, outside_weak=0.6, span_clear=0.6, per_margin=0.5)


def mention_rows(taxonomy: Taxonomy, text: str, category: str | None) -> list[tuple[dict[str, float], tuple]]:
    """The role model's view of each place mention of a text, with the townships it points to."""
    found = _mentions(gazetteer_for(taxonomy), text, category)
    return [(features(m.view(), category, i, len(found)), m.keys) for i, m in enumerate(found)]


def _mentions(gaz: Gazetteer, text: str, category: str | None) -> list[Mention]:
    found = find_mentions(gaz, text)
    masked = _masked(text, found)
    for m in found:
        _score(masked, m, category)
        m.left, m.right = masked[max(0, m.start - WINDOW) : m.start], masked[m.end : m.end + WINDOW]
    return found


# The address the citizen gave for the matter (事发地址栏) says where it is: on the role model's scale, as much
# as the strongest words of a description.
ADDRESS_LOGIT = 4.0


def locate(
    taxonomy: Taxonomy,
    *texts: str | None,
    category: str | None = None,
    gazetteer: Gazetteer | None = None,
    roles: PlaceRoleModel | None | bool = None,
) -> Placement:
    """Where the matter of these texts is. The first text is the address the citizen gave for the matter (事发
    地址): a place named there is taken as the dispute's place. Where two or more townships (or a place outside
    the county) compete, the role model (`roles`; None: the shipped one, False: the cues alone) weighs them."""
    gaz = gazetteer or gazetteer_for(taxonomy)
    mentions: list[Mention] = []
    for i, text in enumerate(texts):
        if not text:
            continue
        found = _mentions(gaz, text, category)
        for m in found:
            if i == 0 and len(texts) > 1:
                m.source, m.score = "address", max(m.score, 0.0) + 4.0
                m.cues.append("事发地址栏")
        mentions += found
    if not mentions:
        return Placement(None, True, 1.0, [], [], "未提及本县乡镇、村（社区）")
    competing = len({k for m in mentions for k in m.keys}) > 1
    if not competing or roles is False:
        return _decide(taxonomy, mentions, CUE_SCALE, lambda m: m.score)
    model = roles if isinstance(roles, PlaceRoleModel) else shipped_model(taxonomy)
    logits = model.logits([features(m.view(), category, i, len(mentions)) for i, m in enumerate(mentions)])
    for m, logit in zip(mentions, logits, strict=True):
        m.probability = round(probability(logit + (ADDRESS_LOGIT if m.source == "address" else 0.0)), 4)
    return _decide(taxonomy, mentions, ROLE_SCALE, lambda m: m.probability or 0.0)


def _decide(
    taxonomy: Taxonomy, mentions: list[Mention], scale: Scale, strength: Callable[[Mention], float]
) -> Placement:
    best: dict[str | None, Candidate] = {}  # per township (None: outside the county), its strongest mention
    for m in mentions:
        for k in m.keys:
            if k not in best or strength(m) > best[k].score:
                best[k] = Candidate(k, strength(m), m)
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.mention.start))
    top = ranked[0]
    if top.township is None and top.score < scale.outside_clear:
        # a place outside the county without words saying the matter is there (a person works or was treated
        # there) yields to the county's place: a call to the county is most often about something here
        ours = [c for c in ranked[1:] if c.township]
        if ours:
            ranked.remove(ours[0])
            ranked.insert(0, ours[0])
            top = ours[0]
    if len(top.mention.townships) > 1:
        # a name spanning townships (县城) yields to a township named nearly as strongly, or to any township of
        # ours when nothing says the matter is in the county town (a person lives or works there)
        near = [
            c
            for c in ranked[1:]
            if len(c.mention.townships) <= 1
            and c.township
            and (top.score - c.score < scale.margin or top.score < scale.span_clear)
        ]
        if near:
            ranked.remove(near[0])
            ranked.insert(0, near[0])
            top = near[0]
    second = next((c for c in ranked[1:] if c.mention is not top.mention), None)
    border = any("交界" in m.cues for m in mentions) and len([c for c in ranked if c.township]) > 1
    margin = top.score - second.score if second else None
    spanning = len(top.mention.townships) > 1
    # with a second place named, the winner needs words that say the dispute is there
    weak = second is not None and top.score < (scale.outside_weak if top.township is None else scale.weak)
    confident = not spanning and not border and not weak and (margin is None or margin >= scale.margin)
    if margin is None:
        confidence = 0.5 if spanning else 0.95
    else:
        confidence = round(min(0.95, 0.5 + scale.per_margin * margin), 2) if not border else 0.5
    if not confident:
        confidence = min(confidence, 0.5 if spanning or border else 0.6)
    if spanning:  # each township the name spans, then the others
        ranked = [c for c in ranked if c.mention is top.mention] + [c for c in ranked if c.mention is not top.mention]
    return Placement(
        township=None if spanning else top.township,
        confident=confident,
        confidence=confidence,
        candidates=ranked[:4],
        mentions=mentions,
        reason=_explain(taxonomy, top, second, confident, border, spanning),
    )


_ROLE_ZH = {"dispute": "事发地", "person": "当事人住所、户籍或来处", "unknown": "未说明是事发地还是住所"}


def _why(m: Mention) -> str:
    cues = "、".join(dict.fromkeys(c for c in m.cues if c != "交界"))
    likely = f"，事发地可能性{m.probability:.0%}" if m.probability is not None else ""
    return (
        f"“{m.name}”（{KIND_ZH.get(m.kind, m.kind)}，{_ROLE_ZH[m.role]}"
        + (f"，依据：{cues}" if cues else "")
        + likely
        + "）"
    )


def _name(taxonomy: Taxonomy, c: Candidate) -> str:
    return taxonomy.township_zh(c.township) if c.township else "县外"


def _explain(
    taxonomy: Taxonomy, top: Candidate, second: Candidate | None, confident: bool, border: bool, spanning: bool
) -> str:
    if spanning:
        names = "、".join(taxonomy.township_zh(t) for t in top.mention.townships)
        return f"属地：{_why(top.mention)}涉及{names}，无法确定，转人工分流"
    head = f"属地{_name(taxonomy, top)}：{_why(top.mention)}"
    if second is None:
        return head
    other = f"{_name(taxonomy, second)}：{_why(second.mention)}"
    if border:
        return f"属地不明：{head.removeprefix('属地')}；{other}；交界或两地之间的纠纷，转人工分流"
    if not confident:
        return f"属地不明：{head.removeprefix('属地')}；{other}；两地都有可能，转人工分流"
    return f"{head}；另提及{other}"


def resolve_township(taxonomy: Taxonomy, *texts: str | None, category: str | None = None) -> str | None:
    """The township of `locate`, confident or not (the address before the description)."""
    return locate(taxonomy, *texts, category=category).township


def first_mention(taxonomy: Taxonomy, *texts: str | None) -> str | None:
    """The plain rule this resolver replaced, kept for `wuhuan triage evaluate` to compare against: the first
    text that names a township decides; within it the earliest mention of the strongest kind of name (full
    name, then a village taxonomy.yaml lists, then short name) wins."""
    patterns = _legacy_patterns(taxonomy)
    for text in texts:
        if not text:
            continue
        best: tuple[int, int, str] | None = None  # (-weight, position, code)
        for rx, code, weight in patterns:
            m = next((m for m in rx.finditer(text) if not _false_friend(text, m.start(), m.group())), None)
            if m:
                key = (-weight // 10, m.start(), code)  # names of one kind compete by position
                if best is None or key < best:
                    best = key
        if best is not None:
            return best[2]
    return None


_LEGACY: dict[int, tuple[Taxonomy, list[tuple[re.Pattern[str], str, int]]]] = {}


def _legacy_patterns(taxonomy: Taxonomy) -> list[tuple[re.Pattern[str], str, int]]:
    cached = _LEGACY.get(id(taxonomy))
    if cached is None or cached[0] is not taxonomy:
        patterns: list[tuple[re.Pattern[str], str, int]] = []
        for t in taxonomy.townships:
            patterns.append((re.compile(re.escape(t.zh)), t.code, 100 + len(t.zh)))
            patterns += [(re.compile(re.escape(v)), t.code, 90 + len(v)) for v in t.villages]
            if t.short != t.zh:
                patterns.append((re.compile(re.escape(t.short)), t.code, 50 + len(t.short)))
        cached = _LEGACY[id(taxonomy)] = (taxonomy, sorted(patterns, key=lambda p: -p[2]))
    return cached[1]
