"""Makes the corpus's Word, Excel and PDF attachments with LibreOffice (run with the system python3)."""

# Run once by hand: /usr/bin/python3 tests/corpus/sources/make_sources.py  (needs python3-uno)
# The files it writes are committed; build.py only reads them, so the corpus stays deterministic.
# ruff: noqa: E501

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

HERE = Path(__file__).resolve().parent

FIRE = (
    "天河区冬季消防安全大检查工作情况",
    "　　为切实做好冬季火灾防控工作，天河区于11月25日召开冬季消防安全工作部署会，"
    "决定自即日起至2027年2月底在全区开展冬季消防安全大检查。",
    "　　一、检查范围。重点检查高层建筑、大型商业综合体、城中村出租屋、“三小”场所和学校、医院、养老机构等人员密集场所。"
    "区消防救援大队联合21个街道组成12个检查组，实行“一对一”包片督查，做到不留死角、不留盲区。",
    "　　二、工作进展。截至11月25日，全区共检查单位346家，督促整改火灾隐患512处，临时查封不符合消防安全条件的场所8处，"
    "约谈单位负责人37人。对珠江新城、天河北等重点片区的43栋超高层建筑逐栋开展消防设施联调联试，"
    "发现并督促整改消防水泵故障、防火门损坏等问题96项。",
    "　　三、主要问题。部分城中村出租屋电动自行车违规停放充电问题突出，个别商业综合体疏散通道堵塞，"
    "少数单位消防控制室值班人员未持证上岗。",
    "　　四、下一步工作。一是建立隐患整改台账，实行销号管理；二是在城中村推广集中充电设施，年底前新建充电桩1200个；"
    "三是加强消防宣传培训，组织“消防进社区”活动100场以上。",
)

TRAFFIC = (
    "市公安局冬季道路交通安全整治行动方案（摘要）",
    "　　为有效预防和减少冬季道路交通事故，确保全市道路交通安全畅通，市公安局决定自2026年12月1日至2027年2月28日"
    "在全市开展冬季道路交通安全整治行动。",
    "　　一、整治重点。重点整治酒驾醉驾、超速超载、货车违法占道、电动自行车闯红灯和逆行等交通违法行为，"
    "同步排查整治临水临崖、急弯陡坡等事故多发路段。",
    "　　二、工作措施。一是强化路面管控，每周开展一次全市统一行动，夜间查处酒驾醉驾不少于3次；"
    "二是加强源头监管，对全市1.2万家运输企业开展安全检查；三是推进科技治超，新增非现场执法点位60个；"
    "四是开展“交通安全进万家”宣传活动，覆盖学校、企业、社区和农村。",
    "　　三、工作要求。各分局要成立专项工作组，主要领导亲自部署，每周五前报送工作进展情况，"
    "对工作不力、事故多发的单位予以通报。",
    "　　截至11月25日，全市已排查事故多发路段37处，完成整改21处；查处各类交通违法行为4.6万宗，"
    "其中酒驾醉驾1327宗，同比下降8.4%。",
)

STATS = (
    "2026年1至10月全市社会消费品零售总额分析",
    "　　1至10月，全市实现社会消费品零售总额9286.53亿元，同比增长4.2%，增速比1至9月提高0.3个百分点。",
    "　　一、升级类消费较快增长。限额以上单位新能源汽车零售额同比增长21.6%，智能手机、可穿戴智能设备零售额分别增长15.3%和18.7%。",
    "　　二、线上消费保持活跃。限额以上单位通过公共网络实现商品零售额同比增长9.8%，占全市社会消费品零售总额的比重为28.4%。",
    "　　三、餐饮消费稳步恢复。住宿和餐饮业零售额同比增长6.1%，其中限额以上餐饮企业营业额增长7.4%。",
    "　　下阶段，需继续落实促消费政策，办好广州国际购物节等活动，进一步释放消费潜力。",
)

WETLAND = (
    "海珠湿地越冬候鸟监测情况报告",
    "　　11月以来，海珠国家湿地公园迎来越冬候鸟迁徙高峰。据监测，11月1日至25日共记录鸟类87种、1.3万余只，"
    "其中越冬候鸟31种，较去年同期增加6种。",
    "　　国家二级保护动物黑脸琵鹭、白琵鹭连续第三年在湿地越冬，首次记录到小天鹅2只。",
    "　　为做好候鸟保护工作，海珠区一是在候鸟主要栖息区设置临时保护区，限制游客进入；二是增派巡护人员，"
    "实行24小时巡查；三是联合高校开展候鸟环志和疫源疫病监测，确保候鸟安全越冬。",
)

PARAGRAPHS = (
    "　　近年来，我区坚持以人民为中心的发展思想，把城市更新作为推动高质量发展的重要抓手，统筹推进旧城镇、旧厂房、旧村庄改造，"
    "累计完成改造面积1260万平方米，新增公共服务设施面积86万平方米，新建和改造道路42公里，城市面貌焕然一新。",
    "　　在推进过程中，我们注重规划引领，坚持“先规划、后改造”，编制完成全区城市更新专项规划和23个片区策划方案，"
    "明确改造范围、改造方式和公共配套要求；注重群众参与，全面推行改造意愿征询、方案表决和信息公开制度，"
    "群众满意度达到96.3%；注重产业导入，引进数字经济、生物医药等领域企业312家，改造后片区税收较改造前增长4.7倍。",
    "　　同时也要看到，城市更新工作仍面临一些困难和问题：一是部分项目历史遗留问题复杂，土地确权和补偿安置难度大；"
    "二是资金平衡压力较大，部分项目融资成本偏高；三是产业导入质量有待提高，少数项目出现“重地产、轻产业”倾向；"
    "四是基层治理跟进不够，改造后社区管理服务存在短板。",
    "　　下一步，我区将重点做好以下工作：一是完善政策体系，研究出台历史用地处置、产业用房管理等配套文件；"
    "二是创新投融资模式，积极争取专项债券和政策性金融支持；三是强化产业招商，建立项目与产业匹配清单；"
    "四是加强社区治理，推动党建引领下的多元共治，确保改造一片、治理一片、提升一片。",
    "　　在民生保障方面，我区新建改建学校17所，新增学位2.3万个；新建社区卫生服务中心6个、长者饭堂38个，"
    "实现街道综合养老服务中心全覆盖；完成老旧小区改造项目64个，惠及居民4.1万户，加装电梯532台。",
    "　　在生态环境方面，我区完成黑臭水体整治和污水管网建设项目29个，新建污水管网186公里，全区水环境质量持续改善；"
    "新建口袋公园和社区公园41个，人均公园绿地面积达到11.2平方米。",
)


def _long_text(title: str, sections: int) -> tuple[str, ...]:
    numerals = "一二三四五六七八九十"
    out = [title]
    for i in range(sections):
        label = numerals[i] if i < 10 else "十" + numerals[i - 10]
        out.append(f"{label}、第{label}部分")
        out.extend(PARAGRAPHS)
    return tuple(out)


def _prop(name: str, value: object) -> PropertyValue:
    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def _connect() -> object:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(60):
        try:
            return resolver.resolve("uno:socket,host=127.0.0.1,port=2083;urp;StarOffice.ComponentContext")
        except Exception:
            time.sleep(0.5)
    raise RuntimeError("LibreOffice did not start")


def _write(ctx: object, path: Path, lines: tuple[str, ...], filt: str, password: str | None = None) -> None:
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)  # type: ignore[attr-defined]
    doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, (_prop("Hidden", True),))
    text = doc.getText()
    text.setString("\n".join(lines))
    info = doc.getDocumentProperties()
    info.Author = "信息科"
    args = [_prop("FilterName", filt), _prop("Overwrite", True)]
    if password:
        args.append(_prop("Password", password))
    doc.storeToURL(path.as_uri(), tuple(args))
    doc.close(True)


def _calc(ctx: object, path: Path, rows: list[list[str]]) -> None:
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)  # type: ignore[attr-defined]
    doc = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (_prop("Hidden", True),))
    sheet = doc.getSheets().getByIndex(0)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.getCellByPosition(c, r).setString(value)
    doc.storeToURL(path.as_uri(), (_prop("FilterName", "MS Excel 97"), _prop("Overwrite", True)))
    doc.close(True)


def main() -> None:
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            "--accept=socket,host=127.0.0.1,port=2083;urp;",
        ]
    )
    try:
        ctx = _connect()
        docx, doc = "MS Word 2007 XML", "MS Word 97"
        _write(ctx, HERE / "fire-check.docx", FIRE, docx)
        _write(ctx, HERE / "traffic-plan.doc", TRAFFIC, doc)
        _write(ctx, HERE / "retail-stats.doc", STATS, doc)
        _write(ctx, HERE / "wetland-birds.docx", WETLAND, docx)
        _write(ctx, HERE / "urban-renewal-long.docx", _long_text("天河区城市更新工作情况汇报", 7), docx)
        _write(ctx, HERE / "urban-renewal-long.doc", _long_text("番禺区城市更新工作情况汇报", 6), doc)
        _write(ctx, HERE / "traffic-plan-encrypted.doc", TRAFFIC, doc, password="gaj2026")
        _write(ctx, HERE / "wetland-birds.pdf", WETLAND, "writer_pdf_Export")
        _calc(
            ctx,
            HERE / "retail-table.xls",
            [
                ["指标", "1-10月（亿元）", "同比增长（%）"],
                ["社会消费品零售总额", "9286.53", "4.2"],
                ["其中：限额以上单位", "3902.17", "5.1"],
                ["网上零售额", "2637.38", "9.8"],
            ],
        )
    finally:
        office.terminate()
        office.wait(timeout=30)


if __name__ == "__main__":
    main()
