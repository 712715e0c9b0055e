"""Simple automatic routing (issue 2): the citizen's category hint, else keyword rules over taxonomy.yaml;
the township from the address or description by its full or short name. The classifier of issue 3 replaces
`classify` behind the same activity."""
from __future__ import annotations

import re

from domain.models import RoutingDecision
from domain.taxonomy import Taxonomy

# Extra everyday words per category, beyond the taxonomy's examples (split on 、).
KEYWORDS: dict[str, list[str]] = {
    "labor": ["工资", "欠薪", "拖欠", "工钱", "包工头", "老板跑", "工伤", "劳动合同", "社保", "加班费", "辞退", "务工"],
    "marriage_family": ["离婚", "抚养", "赡养", "家暴", "彩礼", "分家", "老公", "老婆", "媳妇", "婆婆", "儿媳", "女婿", "丈夫", "妻子"],
    "neighbor": ["邻居", "隔壁", "噪音", "排水", "通行", "采光", "堆物", "围墙", "楼上", "楼下"],
    "housing_homestead": ["宅基地", "建房", "遮挡", "老屋", "违建", "房屋继承"],
    "land_forest": ["承包地", "土地流转", "山林", "林木", "砍伐", "坟地", "界桩", "田地", "林权"],
    "land_acquisition": ["征地", "拆迁", "征收", "补偿款", "安置房", "青苗"],
    "contract_debt": ["借钱", "借款", "欠款", "还钱", "借条", "合伙", "租赁", "担保", "货款", "买卖合同"],
    "medical": ["医院", "医疗", "手术", "误诊", "医药费", "医生", "治疗"],
    "traffic_accident": ["车祸", "撞", "交通事故", "电瓶车", "肇事", "保险理赔", "追尾"],
    "property_mgmt": ["物业", "电梯", "停车位", "维修资金", "业委会", "小区"],
    "consumer": ["退货", "预付卡", "假冒", "伪劣", "装修质量", "商家", "退款", "食品安全"],
    "environment": ["臭味", "废气", "污水", "排放", "施工噪音", "油烟", "污染", "养殖"],
    "injury_damage": ["打架", "受伤", "狗咬", "高空坠物", "损坏", "打伤"],
    "village_affairs": ["村务", "村干部", "分红", "低保", "选举", "村委", "集体资产"],
    "litigation": ["判决", "执行", "申诉", "法院", "上诉", "久拖不决"],
}


def category_scores(text: str, taxonomy: Taxonomy) -> dict[str, int]:
    scores: dict[str, int] = {}
    for cat in taxonomy.dispute_categories:
        words = set(KEYWORDS.get(cat.code, [])) | {w for w in re.split(r"[、，,\s]+", cat.examples) if len(w) >= 2}
        hits = sum(len(w) for w in words if w in text)
        if hits:
            scores[cat.code] = hits
    return scores


def resolve_township(taxonomy: Taxonomy, *texts: str | None) -> str | None:
    """Longest full name first, then short names; the first text that names a township wins."""
    names: list[tuple[str, str]] = []
    for t in taxonomy.townships:
        names.append((t.zh, t.code))
        names.append((t.short, t.code))
    names.sort(key=lambda n: -len(n[0]))
    for text in texts:
        if not text:
            continue
        for name, code in names:
            if name in text:
                return code
    return None


def classify(taxonomy: Taxonomy, description: str, address: str | None, category_hint: str | None,
             township_hint: str | None) -> RoutingDecision:
    township = township_hint or resolve_township(taxonomy, address, description)
    if category_hint and taxonomy.category(category_hint):
        code, confidence, reason = category_hint, 0.9, f"群众选择的类别“{taxonomy.category_zh(category_hint)}”"
    else:
        scores = category_scores(description, taxonomy)
        if not scores:
            return RoutingDecision(category=None, unit=None, township=township, confidence=0.0, auto=False,
                                   reason="未能识别纠纷类别，转人工分流")
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        code, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0
        confidence = round(top / (top + second), 2) if second else 0.9
        reason = f"关键词匹配“{taxonomy.category_zh(code)}”（得分 {top}，次高 {second}）"
    category = taxonomy.category(code)
    assert category is not None
    lead = category.lead_unit
    if lead == "township" and township is None:
        return RoutingDecision(category=code, unit=None, township=None, confidence=confidence, auto=False,
                               needs_team=category.team, reason=reason + "；属地乡镇不明，转人工分流")
    auto = confidence >= 0.6
    team_units = [u for u in category.units if u != "township"]
    return RoutingDecision(category=code, unit=lead, township=township, needs_team=category.team,
                           team_units=team_units, confidence=confidence, auto=auto,
                           reason=reason if auto else reason + "；置信度不足，转人工分流")
