"""Demo plans and tasks, from the seeds (../shared/seeds): the 2023 campaign's national plan (002) and
the plans that implement it — 天津市, 河东区 (000), 河北区商务局 (001), 积翠镇 (003) — the 2024–2026
three-year action of 东丽经开区 (004), and 河东区's tasks to its streets in every state.

Texts, numbers and dates are the documents'; where a document is only cited by another (天津市's,
东丽区's plan), the plan says so. `seed_plans()` looks everything up before creating it.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.auth import service as auth
from portal.auth.models import User
from portal.plans import service as plans
from portal.plans.models import Assignment, Campaign, Plan, Task
from tenants import clock
from tenants.divisions import import_divisions
from tenants.models import Membership, Tenant

CAMPAIGN_2023 = ("重大事故隐患专项排查整治2023行动", date(2023, 5, 1), date(2023, 12, 31))
CAMPAIGN_2024 = ("安全生产治本攻坚三年行动（2024—2026年）", date(2024, 3, 1), date(2026, 12, 31))
FANGSHAN = "141128"  # 山西省吕梁市方山县, whose 积翠镇 (141128105) issued seed 003
JICUI = "141128105"
DONGLI_ZONE = "120110403"  # 东丽区经济技术开发区, the 东丽经开区 of seed 004

# Sections of the national plan (二、专项行动主要内容), and the one this demo adds for its report rule.
ENTERPRISE = "突出主要负责人第一责任带动企业全员安全生产岗位责任落实，切实提高企业隐患排查和整改的质量"
DEPARTMENT = "狠抓监管部门精准严格执法，切实提升发现问题和解决问题的强烈意愿和能力水平"
GOVERNMENT = "压紧压实地方党委政府领导责任，切实强化领导安全生产工作的水平"
DISPATCH = "调度通报"

F = lambda times, per: {"times": times, "per": per}  # noqa: E731  a frequency part

NATIONAL = {
    "title": "全国重大事故隐患专项排查整治2023行动总体方案",
    "issuer": "国务院安全生产委员会",
    "preamble": (
        "为认真贯彻落实党的二十大精神和习近平总书记关于安全生产重要论述，按照党中央、国务院决策部署，进一步落实全国安全生产"
        "电视电话会议、国务院安委会全体会议精神和国务院安委会 2023 年工作要点有关要求，推动重大安全风险防控措施落实，从即日起"
        "在全国开展重大事故隐患专项排查整治 2023 行动（以下简称专项行动），总体方案如下。\n"
        "工作目标。通过专项行动，全面摸清并动态掌握重大事故隐患底数，推动企业主要负责人严格履行安全生产法定职责，推动企业员工"
        "落实安全生产岗位责任，企业排查整改重大事故隐患的质量明显提高；各有关部门对照“三个必须”强化安全监管，聚焦重大事故隐患"
        "精准严格执法；地方党委政府统筹发展和安全能力进一步增强；重大事故隐患得到系统治理，重特大事故得到有效遏制。"),
    "phases": [
        ("动员部署", date(2023, 5, 1), date(2023, 5, 10),
         "（2023年5月上旬前）制定印发专项行动方案，细化明确安全生产重大事故隐患判定标准或重点检查事项等，召开专题会议动员部署。"),
        ("企业自查自改和部门帮扶", None, None,
         "企业认真开展自查自改，建立安全生产重大事故隐患台账。各地区、各有关部门对重点地区、重点企业开展帮扶，完成安全执法队伍"
         "专题培训。组织开展好“安全生产月”活动。"),
        ("部门精准执法", None, None,
         "相关部门聚焦安全生产重大事故隐患和重点检查事项，聚焦第一责任人履职情况，深入企业、一线开展精准执法检查，严查各类非法"
         "违法和违规违章行为。"),
        ("总结提高", date(2023, 12, 1), date(2023, 12, 31),
         "全面总结专项行动取得的成效，系统梳理好经验、好做法，积极推动互学互鉴，不断完善安全生产制度措施，健全完善长效工作机制。"),
    ],
    # (key, section, title, body, rule, value); `key` names the clause for the plans below that replace it.
    "clauses": [
        ("E1", ENTERPRISE, "研究组织本企业重大事故隐患排查整治",
         "企业主要负责人要学习研究本行业领域重大事故隐患判定标准或重点检查事项，组织研究部署开展对标对表自查自改；组织建立企业重大"
         "事故隐患台账清单，实行闭环管理。能立即整改的，要迅速整改；需要一定时间整改的，要明确责任人、措施、资金、期限和应急预案，"
         "并按分级属地原则向负有安全监管职责的有关部门报告；及时吸取专项行动期间国内外发生的典型事故教训，迅速组织排查整治本企业"
         "同类事故隐患；专项行动期间，主要负责人每季度要带队对本单位重大事故隐患排查整治情况至少开展1次检查（高危行业领域企业每月"
         "至少1次）。", "principal_inspection", {"all": F(1, "quarter"), "high_risk": F(1, "month")}),
        ("E2", ENTERPRISE, "落实全员安全生产岗位责任发挥管理团队和专家作用",
         "企业主要负责人要建立健全全员安全生产岗位责任制，明确从主要负责人到一线从业人员（包括劳务派遣人员、实习生等）的安全生产"
         "岗位责任。要突出管理团队安全责任落实，组织制定企业各分管负责人安全生产职责清单和本次专项行动工作清单；按规定设置安全生产"
         "管理机构或者配备专兼职安全生产管理人员；根据需要聘请行业领域安全生产专家强化技术指导，提高隐患排查和整改的质量。",
         None, None),
        ("E3", ENTERPRISE, "组织对动火等危险作业开展排查整治",
         "企业主要负责人要深刻吸取近期违规动火引发的重特大事故教训，组织开展1次全员安全警示教育；严格履行电气焊等动火作业审批手续，"
         "明确现场监护人员；组织对电气焊设备进行全面安全检查，严禁带病作业。举一反三组织对动火等危险作业人员以及易产生重大事故隐患"
         "的其他关键岗位人员落实岗位责任情况进行1次全面排查，严禁聘用和招请未经安全培训合格、未取得相关证书的人员在特种作业岗位上岗"
         "作业，明确“谁招请无证人员，谁负责任”的管理制度。", "key_post_check", {"all": F(1, "year")}),
        ("E4", ENTERPRISE, "组织对外包外租等生产经营活动开展排查整治",
         "企业主要负责人要针对本企业生产经营项目和场所外包外租（包括委托、合作等类似方式）情况组织开展1次全面排查，重点检查是否存在"
         "承包承租方不具备安全生产条件或者相应资质以及双方未签订安全生产协议、安全生产管理职责不清等问题，不符合法律法规规定的要"
         "坚决依法处理；将外包外租等生产经营活动纳入本企业安全生产管理体系，加强统一协调、管理，定期进行安全检查。", None, None),
        ("E5", ENTERPRISE, "组织开展事故应急救援演练活动",
         "企业主要负责人要根据本行业领域事故特点，至少组织开展1次事故应急救援预案演练（高危行业领域企业每半年至少1次），特别要让"
         "全体从业人员主动落实安全生产岗位责任，熟知安全逃生出口（或避灾路线），切实提高从业人员应急避险意识。",
         "drill", {"all": F(1, "year"), "high_risk": F(1, "half_year")}),
        ("D1", DEPARTMENT, "尽快明确和大力宣传排查整治标准要求",
         "国务院安委会各有关成员单位要抓紧制定印发本部门专项行动方案。已出台重大事故隐患判定标准的行业领域，可从现有判定标准中进一步"
         "聚焦提炼出本次整治的重点隐患；尚未出台的，要结合事故教训，首先在方案中明确本次整治的重点事项。地方各有关部门可结合本地实际"
         "进一步补充完善相关整治内容，通知到行业内企业单位。", None, None),
        ("D2", DEPARTMENT, "开展监管执法人员专题培训",
         "负有安全监管职责的各有关部门要利用企业自查自改阶段的时间，集中对监管执法人员开展安全生产专题培训，重点学习重大事故隐患判定"
         "标准、重点执法检查事项及相关法律法规标准，切实提升监管执法人员发现问题和解决问题的能力水平。", None, None),
        ("D3", DEPARTMENT, "聚焦排查整治重点精准严格执法",
         "对企业自查查出的重大事故隐患，已按规定报告并正在采取有效措施消除的，依法不予行政处罚。对排查整治不力导致重大事故隐患依然"
         "存在或发生事故的，要依法对企业和企业主要负责人实行“一案双罚”；重大事故隐患长期存在并多次受到处罚的，依法提请地方人民政府"
         "予以关闭并落实企业主要负责人行业禁入规定；涉嫌犯罪的，依法移送司法机关追究刑事责任。严禁以罚代管、罚而不管。", None, None),
        ("D4", DEPARTMENT, "建立倒查机制严格问责问效",
         "各地区、各有关部门要建立安全监管执法责任倒查机制，严格执行“谁检查、谁签名、谁负责”，对明明有问题却查不出或查出后跟踪整改"
         "不到位导致发生事故的，严肃追责问责，构成犯罪的移送司法机关追究刑事责任。", None, None),
        ("D5", DEPARTMENT, "创新监管和服务方式切实提升监管执法效能",
         "负有安全监管职责的各有关部门要积极运用“四不两直”、明查暗访、异地执法、交叉互检等工作方式不断提高执法质量；依托“互联网+"
         "监管”等信息手段加强部门间互联互通；开展跨部门联合执法检查、联合信用监管；组织专家对重点地区、重点企业帮扶指导。", None, None),
        ("G1", GOVERNMENT, "牢固树立安全红线意识",
         "各地区要深入学习贯彻习近平总书记关于安全生产重要论述，坚持人民至上、生命至上，切实统筹好发展和安全。要专题学习安全生产十五条"
         "硬措施，逐条对照狠抓落实。", None, None),
        ("G2", GOVERNMENT, "全面做好排查整治动员部署",
         "各地区要迅速研究制定本地区专项行动工作方案，建立健全专项行动组织领导和常态化督导检查机制。政府主要负责同志要亲自组织召开专题"
         "会议进行动员部署；党委政府主要负责同志定期听取工作进展情况汇报；动员各级安委会成员单位负责同志到企业宣讲专项行动方案。",
         None, None),
        ("G3", GOVERNMENT, "发挥宣传组织优势加强全社会共同监督",
         "组织开展好6月份的“安全生产月”专题活动，将重大事故隐患排查整治和应急演练作为重要内容；加大安全生产重大事故隐患的公开曝光"
         "力度。进一步健全安全生产举报奖励体系，鼓励“内部吹哨人”和全社会匿名举报，查实重奖。", None, None),
        ("G4", GOVERNMENT, "强化重大事故隐患排查整改财力人力保障",
         "督促有关部门推动企业按规定比例提取安全生产费用，保障重大事故隐患排查整改；健全市县两级基层安全监管体制，大力配备专兼职技术"
         "检查员，着力解决监管执法队伍“人少质弱”问题。", None, None),
        ("G5", GOVERNMENT, "严格安全生产督查督办和考核巡查",
         "各地区要建立本区域重大事故隐患数据库，完善重大事故隐患整治督办制度，深入基层加强督导检查，每半年通报整治进展情况，做到动态"
         "掌握、心中有数。", "progress_circular", {"all": F(1, "half_year")}),
        ("R1", DISPATCH, "定期调度掌握排查整治进展情况",
         "国务院安委会办公室对各地区工作进展情况进行月度调度。调度表自6月份开始上报，每月5日前上报截至上月末的累计情况；调度表中明确"
         "提出省、市、县三级的有关事项需要分开进行统计上报。请于2023年5月15日前将专项行动方案及动员部署情况报送国务院安委会办公室。",
         "dispatch_report", {"period": "month", "due_day": 5, "cumulative": True}),
    ],
}

TIANJIN = {
    "title": "天津市重大事故隐患排查整治2023专项行动方案",
    "issuer": "天津市安全生产委员会",
    "preamble": "（演示数据：原文未收录，标题据《河东区重大事故隐患排查整治2023专项行动工作方案》所引。）天津市认真落实国务院安全生产"
                "15条硬措施和我市50条具体措施，部署开展重大事故隐患排查整治2023专项行动。",
    "clauses": [],
}

HEDONG = {
    "title": "河东区重大事故隐患排查整治2023专项行动工作方案",
    "issuer": "河东区安全生产委员会",
    "issued_on": date(2023, 5, 19),
    "recipients": "区安委会各成员单位、各街道及各单位",
    "preamble": (
        "为深入贯彻习近平总书记关于安全生产重要论述和重要指示批示精神，认真落实党的二十大精神，按照市安委会近期印发的《天津市重大"
        "事故隐患排查整治 2023 专项行动方案》和区委、区政府部署要求，结合正在开展的安全生产全链条排查整治工作，区安委会决定自即日起"
        "至 2023 年年底，在全区开展重大事故隐患排查整治 2023 专项行动，现制定工作方案如下。"),
    "phases": [
        ("动员部署", date(2023, 5, 1), date(2023, 5, 31),
         "5月17日前，召开全区动员部署会议，印发专项行动方案；5月底前，各部门、各街道进行动员部署，下发重大事故隐患判定标准或重点"
         "检查事项，向企业传达专项行动要求。"),
        ("企业自查自改", date(2023, 6, 1), date(2023, 6, 30),
         "企业依据重大事故隐患判定标准或重点检查事项认真开展自查自改，建立重大事故隐患台账清单，实行闭环管理。"),
        ("部门帮扶和精准执法", date(2023, 7, 1), date(2023, 11, 30),
         "各部门、各街道要将安全生产执法贯穿专项行动全过程，坚持执法与服务并重，加强对重点企业的指导帮扶力度，通过差异化执法处罚"
         "措施，推动企业真查真改，并主动报告重大事故隐患。"),
        ("总结提高", date(2023, 12, 1), date(2023, 12, 31),
         "各部门、各街道和各单位全面总结专项行动取得的成效，系统梳理好经验、好做法，健全完善长效工作机制。"),
    ],
    # (replaces, section, title, body, rule, value): replaces a national clause by key, or adds (None).
    "clauses": [
        ("E1", None, "组织开展本企业重大事故隐患排查整治",
         "企业主要负责人要依据本行业领域重大事故隐患判定标准或重点检查事项，组织开展自查自改，建立企业重大事故隐患台账清单，实行闭环"
         "管理。需要一定时限整改的，要明确责任人、措施、资金、期限和应急预案，并按属地原则向有关部门报告；主要负责人每季度要带队对"
         "本单位重大事故隐患排查整治情况至少开展 1次检查（高危行业领域企业每月至少 1次）。", None, None),
        ("E3", None, "组织对动火等危险作业开展排查整治",
         "企业主要负责人要深刻吸取违规动火引发的重特大事故教训，组织开展经常性全员安全警示教育活动；严格履行电气焊等动火作业审批手续。"
         "举一反三组织对动火等危险作业人员以及易产生重大事故隐患的其他关键岗位人员落实岗位责任情况每月至少进行 1次全面排查，严禁聘用和"
         "招请未经安全培训合格、未取得相关证书的人员在特种作业岗位上岗作业。", "key_post_check", {"all": F(1, "month")}),
        ("E4", None, "组织对外包外租、分包转包等生产经营活动开展排查整治",
         "企业主要负责人要针对本企业生产经营项目和场所外包外租（包括委托、合作等类似方式）、分包转包情况组织开展 1次全面排查，坚决杜绝"
         "违法分包转包挂靠资质等违法违规行为；要将外包外租、分包转包等生产经营活动纳入本企业安全生产管理体系。", None, None),
        ("E5", None, "组织开展事故应急救援演练活动",
         "企业主要负责人要根据本行业领域事故特点，至少组织开展 1次事故应急救援预案演练（高危行业领域企业每季度至少 1次），特别要让全体"
         "从业人员主动落实安全生产岗位责任，熟知安全逃生出口（或避灾路线），切实提高从业人员应急避险意识。",
         "drill", {"high_risk": F(1, "quarter")}),
        (None, ENTERPRISE, "加强劳务派遣和灵活用工人员安全管理",
         "企业主要负责人要督促本企业依法保障劳务派遣人员、灵活用工人员（含实习生）的劳动保障权益，将其纳入本企业从业人员统一管理，"
         "严控危险岗位劳务派遣用工数量，加强岗位安全操作规程和安全操作技能教育和培训，未经教育培训合格不得上岗作业。", None, None),
        ("G1", None, "压紧压实安全生产工作责任",
         "各部门、各街道要制定更新领导班子成员安全生产职责清单、年度任务清单，专题组织学习国务院安全生产 15 条硬措施和我市 50 条具体"
         "措施，并落实到位。各有关部门要严格按照“三管三必须”要求，依法依规落实安全生产权力清单和责任清单。", None, None),
        ("G2", None, "层层做好专项行动部署动员",
         "区安委会组织召开全区重大事故隐患排查整治 2023 专项行动工作会议。各部门、各街道要迅速研究制定本行业领域、本街道专项行动工作"
         "方案，主要负责同志要亲自组织召开专题会议进行动员部署，每月听取工作进展情况汇报。", None, None),
        ("D1", None, "开展重点行业领域排查整治",
         "区应急局、区住房建设委、区消防救援支队要在现有重大事故隐患判定标准基础上，进一步明确本次排查整治的重点内容；区城市管理委、"
         "区市场监管局、区商务局等部门要结合典型事故和实际情况，确定排查整治的重点检查事项。", None, None),
        ("D4", None, "实施行政执法倒查机制",
         "对专项行动不部署、不落实、不到位，对重大事故隐患整改不彻底、未建立工作台账，对重大事故隐患督改不力、只检查不处罚等情况一律"
         "倒查属地街道和有关部门相关责任人责任。严格执行“谁检查、谁签名、谁负责”。", None, None),
        ("R1", None, "严格督导问效",
         "区安委会办公室加强督促指导，综合运用警示约谈、挂牌督办等工作机制，每半月书面汇总、每月视频调度全区专项行动进展情况，协同"
         "纪检监察、政府督查部门，对安全检查走形式走过场、监管执法“宽松软虚”的及时通报。",
         "dispatch_report", {"period": "half_month", "due_day": None, "cumulative": True}),
    ],
}

HEBEI_COMMERCE = {
    "title": "河北区商务局重大事故隐患排查整治2023专项行动方案",
    "issuer": "河北区商务局",
    "issued_on": date(2023, 5, 22),
    "recipients": "局各科室",
    "preamble": (
        "按照市商务局、市工信局和区安委会《重大事故隐患排查整治2023专项行动方案》部署，决定自即日起在商务领域开展重大事故隐患排查"
        "整治2023专项行动，现制定方案如下。"),
    "phases": [
        ("动员部署", date(2023, 5, 1), date(2023, 5, 31),
         "召开全局动员部署会议，印发专项行动方案，下发重大事故隐患判定标准和重点检查事项；5月中下旬，各科室进行动员部署，明确重点"
         "检查事项清单，编制明白纸，向企业传达专项行动要求。"),
        ("企业自查自改", date(2023, 6, 1), date(2023, 6, 30),
         "企业依据重大事故隐患判定标准或重点检查事项清单认真开展自查自改，建立重大事故隐患台账清单，实行闭环管理。"),
        ("部门督导", date(2023, 7, 1), date(2023, 11, 30),
         "各科室要将安全生产督促检查贯穿专项行动全过程，通过移交相关或配合相关执法部门联合执法等措施，推动企业真查真改。"),
        ("总结提高", date(2023, 12, 1), date(2023, 12, 31), "各科室和各企业全面总结专项行动取得的成效。"),
    ],
    "clauses": [
        ("E1", None, "组织开展本企业重大事故隐患排查整治",
         "企业主要负责人要依据本行业领域重大事故隐患判定标准或重点检查事项，组织开展自查自改，建立企业重大事故隐患台账清单，实行闭环"
         "管理；主要负责人每季度要带队对本单位重大事故隐患排查整治情况至少开展1次检查（建筑施工、危险物品经营储存等高危行业领域企业"
         "每月至少1次）。", None, None),
        ("E3", None, "组织对动火等危险作业开展排查整治",
         "举一反三组织对动火等危险作业人员以及易产生重大事故隐患的其他关键岗位人员落实岗位责任情况每月至少进行1次全面排查，明确“谁招"
         "请无证人员，谁负责任”的管理制度。", "key_post_check", {"all": F(1, "month")}),
        ("E5", None, "组织开展事故应急救援演练活动",
         "企业主要负责人要根据本行业领域事故特点，至少组织开展1次事故应急救援预案演练（建筑施工、道路运输、危险物品经营储存等高危行业"
         "领域企业每季度至少1次），熟知安全逃生出口（或避灾路线）。", "drill", {"high_risk": F(1, "quarter")}),
        (None, "区商务局主要任务", "做好行业领域排查督导",
         "重点抓好大型商超、标准化菜市场、非星级酒店等消防安全检查，突出对相关企业内商户的装修施工、电气焊等动火作业项目进行排查整治；"
         "突出对商业综合体、非星级酒店等公共场所督促燃气报警器安装，燃气设施安全等方面开展全面排查整治，全面摸清底数，建立台账，事故"
         "隐患及时整改“清零”。", None, None),
        ("R1", None, "每周调度",
         "请科室于2023年5月23日前将专项行动工作方案传达部署到相关企业，并于24日前将动员部署情况汇总报送企业服务科；自5月25日起，于"
         "每周一中午前上报阶段工作情况和《河北区重大事故隐患专项排查整治2023行动进展情况调度表》（自专项行动开展以来累计数据）；行动"
         "阶段进展和工作总结分别于2023年7月29日前、2023年11月28日前汇总报送企业服务科。",
         "dispatch_report", {"period": "week", "due_day": 1, "cumulative": True}),
    ],
}

JICUI_PLAN = {
    "title": "积翠镇重大事故隐患专项排查整治2023行动实施方案",
    "issuer": "积翠镇人民政府",
    "doc_number": "方积政发〔2023〕11号",
    "recipients": "各行政村、各驻镇机关及企业",
    "preamble": (
        "为认真贯彻落实党的二十大精神和习近平总书记关于安全生产重要论述，推动重大安全风险防控措施落实，按照党中央、国务院、省委、"
        "省政府、市委、市政府和县委、县政府决策部署，进一步落实《全县重大事故隐患专项排查整治 2023 行动工作方案》有关要求，结合实际，"
        "特制定方案如下。"),
    "phases": [
        ("动员部署", date(2023, 5, 1), date(2023, 5, 31), "（2023年5月下旬前）镇政府制定印发行动方案，召开专题会议动员部署。"),
        ("企业自查自改和部门帮扶", date(2023, 6, 1), date(2023, 7, 31),
         "（2023年7月底前）企业认真开展自查自改，建立安全生产重大事故隐患台账，并形成常态化工作机制。"),
        ("精准执法", date(2023, 8, 1), date(2023, 11, 30),
         "（2023年8-11月）镇综合行政执法队要配合相关站所聚焦安全生产重大事故隐患和重点检查事项开展精准执法检查。"),
        ("巩固提高", date(2023, 12, 1), date(2023, 12, 31), "全面总结专项行动取得的成效，健全完善长效工作机制。"),
    ],
    "clauses": [
        (None, "组织领导", "成立积翠镇专项行动领导组",
         "组长由党委书记张庆斌、党委副书记、镇长王鑫辉共同担任，常务副组长由副镇长薛明辉担任，副组长由其他副镇长及领导班子其他成员担任，"
         "成员由镇安委会有关成员及各站所主要负责人、各村党支部书记组成。领导组下设办公室，办公室设在镇应急站，办公室主任由应急站负责人"
         "雷建良兼任。应急站牵头负责非煤矿山、危险化学品、工贸、交通运输等行业领域，城建站牵头负责建筑施工、自建房、燃气等，消防工作所"
         "牵头负责消防安全。", None, None),
        ("E1", None, "研究组织本企业重大事故隐患排查整治",
         "（4）专项行动期间，主要负责人每月要带队对本单位重大事故隐患排查整治情况至少开展1次检查，要对照重大事故隐患判定标准或重点"
         "检查事项逐条逐项检查、建档，对发现和解决的重大问题及隐患要记录在案。", "principal_inspection", {"all": F(1, "month")}),
        ("G5", None, "强化监督考核",
         "镇应急站负责全镇重大风险隐患专项整治总协调，按照“周调度、月小结、季通报、年总结”要求，及时调度、通报、上报专项整治工作进展"
         "情况。镇纪委对工作不落实、推进不力的村、站所，将适时下达提醒函、督办函，进行约谈、问责。",
         "progress_circular", {"all": F(1, "quarter")}),
        ("R1", None, "周调度",
         "按照“周调度、月小结、季通报、年总结”要求，各站所、各村每周报送专项整治工作进展（累计数据）。",
         "dispatch_report", {"period": "week", "due_day": None, "cumulative": True}),
    ],
}

DONGLI = {
    "title": "东丽区安全生产治本攻坚三年行动方案（2024—2026年）",
    "issuer": "东丽区安全生产委员会",
    "preamble": "（演示数据：原文未收录，标题据《东丽经开区安全生产治本攻坚三年行动实施方案（2024-2026年）》所引。）",
    "phases": [
        ("动员部署阶段", date(2024, 3, 1), date(2024, 4, 30), "完成实施方案制定和动员部署。"),
        ("夯实基础阶段", date(2024, 4, 1), date(2024, 12, 31), "2024年底前全面消除2023年及以前排查发现的重大事故隐患存量。"),
        ("集中攻坚阶段", date(2025, 1, 1), date(2025, 12, 31), "2025年底前有效遏制重大事故隐患增量。"),
        ("固本提升阶段", date(2026, 1, 1), date(2026, 12, 31), "2026年底前形成重大事故隐患动态清零的常态化机制。"),
    ],
    "clauses": [],
}

THREE_YEAR_ACTIONS = "落实重大事故隐患动态清零行动"
DONGLI_ZONE_PLAN = {
    "title": "东丽经开区安全生产治本攻坚三年行动实施方案（2024-2026年）",
    "issuer": "东丽经开区安全生产委员会",
    "issued_on": date(2024, 4, 9),
    "recipients": "东丽经开安委会各成员部门、各生产经营单位、施工项目",
    "preamble": (
        "通过三年治本攻坚，2024年底前全面消除2023年及以前排查发现的重大事故隐患存量，2025年底前有效遏制重大事故隐患增量，2026年底前"
        "形成重大事故隐患动态清零的常态化机制；针对重大安全风险的一批“人防、技防、工程防、管理防”措施落地见效，本质安全水平大幅提升。"),
    "phases": [
        ("动员部署阶段", date(2024, 3, 1), date(2024, 4, 30),
         "4月12日前，要完成实施方案制定和动员部署，并报区安委会办公室备案。4月底前，召开东丽经开区安全生产治本攻坚三年行动动员部署会议。"),
        ("夯实基础阶段", date(2024, 4, 1), date(2024, 12, 31),
         "对排查发现的重大事故隐患逐一明确整改责任单位和整改标准要求，坚持边查边改、立查立改，2024年底前全面消除2023年及以前排查发现的"
         "重大事故隐患存量。"),
        ("集中攻坚阶段", date(2025, 1, 1), date(2025, 12, 31),
         "针对重点难点问题，采取现场推动、挂牌督办等措施，加大推进力度，重大事故隐患增量有效遏制。"),
        ("固本提升阶段", date(2026, 1, 1), date(2026, 12, 31),
         "全面梳理总结安全生产治本攻坚三年行动情况，查漏补缺、形成闭环，形成工作报告，报区安委会办公室。"),
    ],
    "clauses": [
        (None, "落实法规标准和责任体系建设提升行动", "规范领导干部安全生产职责清单和年度任务清单",
         "全面规范东丽经开区领导干部安全生产职责清单和年度任务清单，明确安全生产治本攻坚三年行动责任分工和工作目标，按程序报区安委会"
         "办公室备案。", None, None),
        (None, THREE_YEAR_ACTIONS, "落实重大事故隐患自查自改常态化机制",
         "推动东丽经开区生产经营单位认真落实重大事故隐患自查自改常态化机制，生产经营单位主要负责人要每季度带队对本单位重大事故隐患排查"
         "整治情况至少开展1次检查（高危行业领域每月至少1次）。", "principal_inspection",
         {"all": F(1, "quarter"), "high_risk": F(1, "month")}),
        (None, "落实生产经营单位从业人员安全素质能力提升行动", "疏散逃生演练",
         "推动生产经营单位每年至少组织开展1次疏散逃生演练（高危行业领域每半年至少1次），让全体从业人员熟知逃生通道、安全出口及应急处置"
         "要求，形成常态化机制。", "drill", {"all": F(1, "year"), "high_risk": F(1, "half_year")}),
        (None, "保障措施", "实行工作情况季度报送机制",
         "自2024年4月1日起，各部门要在每季度末25日前报送当季度工作情况，要在当年12月25日前报送年度工作报告，要在任务完成前报治本攻坚"
         "三年行动自评报告，领导小组办公室负责汇总报党工委审议后上报区安委办。",
         "dispatch_report", {"period": "quarter", "due_day": 25, "cumulative": False}),
    ],
}

# 河东区's task to every street (the issue's story) and how far each street has got with it.
STREET_TASK = ("制定本街道专项行动方案并动员部署",
               "按照《河东区重大事故隐患排查整治2023专项行动工作方案》，各街道要迅速研究制定本街道专项行动工作方案，主要负责同志要亲自"
               "组织召开专题会议进行动员部署，向辖区企业传达专项行动要求。请于截止日期前上报本街道方案和动员部署情况。")
# By street division code: how far the street got. Nine done, one reported, one returned once and
# reporting again, one in progress, one not yet signed.
STREET_STATES = {"120102001": "done", "120102002": "done", "120102003": "done", "120102004": "done",
                 "120102005": "done", "120102006": "done", "120102007": "done", "120102008": "done",
                 "120102009": "done", "120102010": "reported", "120102011": "returned", "120102012": "in_progress",
                 "120102013": "pending"}
LIAISON = ("hedong_streets", "河东区街道联络员（演示）", "各街道安全生产办公室工作人员")


def _campaign(name: str, starts_on: date, ends_on: date, root: Tenant) -> Campaign:
    found = db_one(select(Campaign).where(Campaign.name == name))
    return found or plans.create_campaign(root, name=name, starts_on=starts_on, ends_on=ends_on)


def db_one(stmt):
    from portal.extensions import db
    return db.session.execute(stmt).scalars().first()


def _plan(tenant: Tenant, campaign: Campaign, data: dict, parent_clauses: dict[str, int]) -> tuple[Plan, dict]:
    """The plan of `tenant` from `data`, created once; returns it with its clause ids by key."""
    found = db_one(select(Plan).where(Plan.tenant_id == tenant.id, Plan.campaign_id == campaign.id))
    if found is not None:
        return found, {}
    plan = plans.create_plan(tenant, campaign, title=data["title"], issuer=data["issuer"],
                             doc_number=data.get("doc_number", ""), issued_on=data.get("issued_on"),
                             recipients=data.get("recipients", ""), preamble=data.get("preamble", ""))
    for phase, (name, starts_on, ends_on, body) in zip(plan.phases, data.get("phases", [])):
        plans.update_phase(plan, phase, name=name, starts_on=starts_on, ends_on=ends_on, body=body)
    keys = {}
    items = {i.clause.id: i.clause for i in plans.effective_clauses(plan)}
    for key, section, title, body, rule, value in data["clauses"]:
        if key in parent_clauses:  # replaces the clause the level above gave this key
            clause = plans.save_clause(plan, title=title, body=body, replaces=items[parent_clauses[key]],
                                       rule_value=value)
        else:
            clause = plans.save_clause(plan, section=section, title=title, body=body, rule=rule, rule_value=value)
        keys[key or f"own{len(keys)}"] = clause.id
    return plan, keys


def _national_keys(plan: Plan) -> dict[str, int]:
    by_title = {i.clause.title: i.clause.id for i in plans.effective_clauses(plan)}
    return {key: by_title[title] for key, _, title, *_ in NATIONAL["clauses"]}


def _by_code(code: str) -> Tenant:
    return db_one(select(Tenant).where(Tenant.code == code))


def _member(unit: Tenant, role: str = "staff") -> Membership:
    return db_one(select(Membership).where(Membership.tenant_id == unit.id, Membership.role == role))


def _liaison(streets: list[Tenant], password: str) -> None:
    """One demo account that holds a staff post in each 河东区 street without a user of its own."""
    user = db_one(select(User).where(User.username == LIAISON[0]))
    for street in streets:
        if _member(street) is not None:
            continue
        if user is None:
            user = auth.create_user(street, username=LIAISON[0], display_name=LIAISON[1], password=password,
                                    role="staff", post=LIAISON[2])
            auth.accept_password(user)
        else:
            auth.add_membership(user, street, "staff")


def _street_tasks(hedong: Tenant, plan: Plan) -> None:
    """河东区 assigns STREET_TASK to its 13 streets; each street gets as far as STREET_STATES says.
    Run on the campaign's own dates (the checks use `today`), so the board shows the 2023 story."""
    if db_one(select(Task).where(Task.tenant_id == hedong.id, Task.title == STREET_TASK[0])) is not None:
        return
    district = _member(hedong, "admin")
    phase = plan.phases[0]
    streets = [t for t in plans.children(hedong) if t.kind == "street"]
    task = plans.create_task(hedong, district, title=STREET_TASK[0], body=STREET_TASK[1], deadline=date(2023, 5, 31),
                             phase_id=phase.id, receiver_kinds=["street"], request_key="demo-hedong-streets",
                             today=date(2023, 5, 19))
    for street in streets:
        a = db_one(select(Assignment).where(Assignment.task_id == task.id, Assignment.tenant_id == street.id))
        target, staff = STREET_STATES[street.code], _member(street)
        if target == "pending":
            continue
        plans.sign(a, staff)
        if street.code == "120102001":  # 大王庄街道 passes it on to its enterprises first
            _pass_down(street, a, staff)
        if target == "in_progress":
            continue
        if target == "returned":
            plans.report(a, staff, body=f"{street.name}已起草专项行动方案，拟于近期召开动员部署会。")
            plans.return_(a, district, reason="方案未明确各社区、各科室分工，也未召开动员部署会，请补充后重新上报。")
            plans.resume(a, staff)
            continue
        plans.report(a, staff, body=f"{street.name}已制定本街道专项行动工作方案，召开专题会议动员部署，并向辖区企业传达专项行动"
                                    f"要求。方案和会议纪要附后。", files=[("动员部署会议纪要.pdf", MINUTES)])
        if target == "done":
            plans.approve(a, district)


def _pass_down(street: Tenant, parent: Assignment, staff: Membership) -> None:
    enterprises = [t for t in plans.children(street) if t.kind == "enterprise"]
    plans.create_task(street, staff, title="传达专项行动要求并组织企业自查自改",
                      body="各企业主要负责人要学习本行业领域重大事故隐患判定标准，组织对标对表自查自改，建立重大事故隐患台账清单，"
                           "并上报自查情况。", deadline=date(2023, 5, 30), phase_id=None,
                      receiver_ids=[e.id for e in enterprises], request_key="demo-dawangzhuang-enterprises",
                      parent_assignment=parent, today=date(2023, 5, 22))


def _dongli_tasks(dongli: Tenant, plan: Plan, today: date) -> None:
    """Current tasks of the three-year action, so the demo board shows green and yellow too."""
    if db_one(select(Task).where(Task.tenant_id == dongli.id)) is not None:
        return
    admin = _member(dongli, "admin")
    if admin is None:
        return
    phase = plan.phases[-1]
    # Deadlines relative to the day the demo is loaded, inside the last phase while it lasts.
    base = min(today, phase.ends_on - timedelta(days=21))
    for title, days, key in (("报送本季度治本攻坚工作情况", 2, "demo-dongli-quarter"),
                             ("报送年度工作报告和三年行动自评报告", 20, "demo-dongli-year")):
        plans.create_task(dongli, admin, title=title, body="按照实施方案“实行工作情况季度报送机制”的要求按时报送。",
                          deadline=base + timedelta(days=days), phase_id=phase.id, receiver_kinds=["street"],
                          request_key=key, today=base)


MINUTES = b"%PDF-1.4\n% demo minutes\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def seed_plans(password: str) -> None:
    """Load the demo's campaigns, plans and tasks (caller runs it unscoped and commits)."""
    hedong, hebei, dongli = _by_code("120102"), _by_code("120105"), _by_code("120110")
    root = db_one(select(Tenant).where(Tenant.id == hedong.ancestor_ids[0]))
    tianjin = _by_code("12")
    if _by_code(JICUI) is None:
        import_divisions(counties=[FANGSHAN])

    campaign = _campaign(*CAMPAIGN_2023, root)
    national, keys = _plan(root, campaign, NATIONAL, {})
    keys = keys or _national_keys(national)
    _plan(tianjin, campaign, TIANJIN, keys)
    hedong_plan, _ = _plan(hedong, campaign, HEDONG, keys)
    commerce = db_one(select(Tenant).where(Tenant.parent_id == hebei.id, Tenant.name == "河北区商务局"))
    _plan(commerce, campaign, HEBEI_COMMERCE, keys)
    _plan(_by_code(JICUI), campaign, JICUI_PLAN, keys)

    three_year = _campaign(*CAMPAIGN_2024, root)
    dongli_plan, _ = _plan(dongli, three_year, DONGLI, {})
    _plan(_by_code(DONGLI_ZONE), three_year, DONGLI_ZONE_PLAN, {})

    _liaison([t for t in plans.children(hedong) if t.kind == "street"], password)
    _street_tasks(hedong, hedong_plan)
    _dongli_tasks(dongli, dongli_plan, clock.today())
