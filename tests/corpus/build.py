"""Writes the acceptance corpus: realistic submissions from Guangzhou units and the verdict each should get."""

# Run: .venv/bin/python tests/corpus/build.py   (deterministic; rewrites messages/*.eml and manifest.toml)
# The Chinese text counts double width, so long lines are the data, not the code:
# ruff: noqa: E501

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email.utils
import hashlib
import json
import quopri
import random
import struct
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import opencc

HERE = Path(__file__).resolve().parent
MESSAGES = HERE / "messages"
SOURCES = HERE / "sources"
ZERO = dt.timedelta(0)

ITEMS: dict[str, tuple[str, str]] = {
    "th-fire": (
        "天河区启动冬季消防安全大检查",
        "　　11月25日，天河区召开冬季消防安全工作部署会，决定即日起至明年2月底在全区开展冬季消防安全大检查。"
        "此次检查重点针对高层建筑、大型商业综合体、城中村出租屋和“三小”场所，区消防救援大队联合各街道组成12个检查组，"
        "实行“一对一”包片督查。截至目前，已检查单位346家，督促整改隐患512处，查封不符合消防安全条件的场所8处。",
    ),
    "th-village": (
        "天河区城中村微改造取得阶段性成效",
        "　　今年以来，天河区投入资金3.2亿元，对车陂、棠下、石牌等9个城中村实施微改造，"
        "完成三线整治42公里、雨污分流管网改造18公里，新建口袋公园11个，改造后村容村貌明显改善。\n"
        "　　下一步，该区将建立“改造一片、管好一片”的长效机制，推动城中村治理从“面子”向“里子”延伸。",
    ),
    "th-fintech": (
        "天河区举办2026年科技金融对接会",
        "　　11月24日，天河区在珠江新城举办2026年科技金融对接会，32家银行、创投机构与86家科技型中小企业现场对接，"
        "达成意向融资金额18.6亿元。会上，该区发布“科技贷”风险补偿资金池2.0版，单户企业最高可获贷款3000万元。",
    ),
    "th-school-food": (
        "天河区加强学校周边食品安全监管",
        "　　天河区市场监管局近日开展校园及周边食品安全专项检查，共检查学校食堂213家、校外托管机构96家、周边食品经营户418家，"
        "责令整改问题127项，立案查处违法行为9宗。该区还在全区中小学推广“明厨亮灶”，覆盖率达到100%。",
    ),
    "th-software": (
        "天河软件园前十个月新增入园企业46家",
        "　　1至10月，天河软件园新增入园企业46家，其中国家高新技术企业19家，园区实现软件和信息服务业营业收入1562亿元，同比增长11.3%。"
        "园区新建的人工智能公共算力平台已为120余家企业提供算力服务。",
    ),
    "th-elderly": (
        "天河区长者饭堂实现街道全覆盖",
        "　　截至11月，天河区已建成长者饭堂97个，实现21个街道全覆盖，日均服务长者1.1万人次。"
        "该区对80岁以上老人、低保低收入老人给予每餐3至8元不等的补贴，并为行动不便老人提供送餐上门服务。",
    ),
    "th-metro": (
        "天河区配合做好地铁十一号线开通前准备工作",
        "　　为保障地铁十一号线年底开通运营，天河区成立工作专班，完成沿线14个站点周边道路恢复、公交接驳线路调整和慢行系统建设，"
        "新增非机动车停放点63处，并组织街道做好开通初期客流疏导预案。",
    ),
    "th-river": (
        "天河区完成车陂涌碧道二期建设",
        "　　近日，天河区车陂涌碧道二期工程完工，新建滨水步道6.8公里、亲水平台12处，沿线串联3个公园和2个历史文化节点。"
        "车陂涌水质稳定达到地表水Ⅳ类标准。",
    ),
    "th-night": (
        "天河路商圈夜间经济活动带动消费增长",
        "　　11月以来，天河路商圈推出“天河夜未眠”系列活动，举办夜间市集、灯光秀等活动26场，"
        "商圈重点商场夜间客流同比增长17.8%，夜间销售额增长12.4%。",
    ),
    "th-startup": (
        "天河区为高校毕业生提供创业场地补贴",
        "　　天河区出台扶持高校毕业生创业新措施，对在区内创业的毕业生给予最高每年1万元的场地租金补贴，"
        "首批已有138名毕业生获得补贴，带动就业610人。",
    ),
    "th-fire-revised": (
        "天河区冬季消防安全检查整改隐患512处",
        "　　天河区冬季消防安全大检查开展以来，已检查单位346家，督促整改隐患512处，约谈单位负责人37人。"
        "对珠江新城等重点片区43栋超高层建筑逐栋开展消防设施联调联试。",
    ),
    "yx-temple": (
        "越秀区启动“广府庙会”筹备工作",
        "　　越秀区近日召开2027年广府庙会筹备工作会议，明确庙会将于春节后在城隍庙广场及周边举行，"
        "设置非遗展演、广府美食、民俗巡游等6大板块，预计吸引游客300万人次。",
    ),
    "yx-beijingroad": (
        "越秀区完成北京路步行街二期改造",
        "　　北京路步行街二期改造工程日前完工，改造范围从西湖路延伸至大南路，全长420米。"
        "改造后街区新引进首店、旗舰店23家，周末日均客流达到35万人次。",
    ),
    "yx-elevator": (
        "越秀区开展老旧小区加装电梯集中攻坚",
        "　　越秀区今年已完成老旧小区加装电梯286台，在建197台，数量居全市首位。"
        "该区推行“一梯一策”协调机制，由街道、社区、律师组成调解小组，化解加装矛盾纠纷74宗。",
    ),
    "yx-onewindow": (
        "越秀区推行政务服务“一窗通办”",
        "　　越秀区政务服务中心全面推行“一窗通办”改革，将原有62个专业窗口整合为18个综合窗口，"
        "群众办事平均等候时间由25分钟缩短至8分钟，即办件比例提高到78%。",
    ),
    "yx-culture": (
        "越秀区推进历史文化街区活化利用",
        "　　越秀区结合城市更新推进历史文化街区活化利用，今年完成修缮历史建筑34栋，"
        "引入文创、非遗工作室等业态52家，新河浦、农林下路等街区成为市民打卡新地标。",
    ),
    "yx-flu": (
        "越秀区加强秋冬季流感防控",
        "　　进入秋冬季以来，越秀区卫生健康部门加强流感监测预警，在全区18个社区卫生服务中心开设发热门诊，"
        "为60岁以上老人和中小学生免费接种流感疫苗4.2万剂。",
    ),
    "yx-market": (
        "越秀区整治农贸市场环境卫生",
        "　　越秀区对辖内45个农贸市场开展环境卫生集中整治，完成升级改造市场12个，"
        "推行“一户一码”溯源管理，群众满意度明显提升。",
    ),
    "yx-volunteer": (
        "越秀区志愿服务时长突破千万小时",
        "　　截至11月，越秀区注册志愿者达到41.6万人，累计志愿服务时长突破1000万小时，"
        "该区建成社区志愿服务站222个，打造“越秀街坊”志愿服务品牌。",
    ),
    "yx-revised-only": (
        "越秀区启动冬季“暖城行动”",
        "　　越秀区启动冬季“暖城行动”，为辖区流浪乞讨人员、困难群众发放棉被、棉衣等物资3200件，"
        "开设临时避寒场所5处，安排工作人员24小时值守。",
    ),
    "py-talent": (
        "番禺区广州大学城新建人才公寓投入使用",
        "　　位于广州大学城的番禺区人才公寓近日投入使用，首批提供房源1260套，"
        "面向在区内工作的博士、硕士和高技能人才配租，租金为市场价的七成。",
    ),
    "py-sewage": (
        "番禺区加快推进南村镇污水管网建设",
        "　　番禺区南村镇污水管网工程已完成总工程量的82%，新建管网46公里，"
        "预计明年3月全面完工，届时镇域生活污水收集率将提高到95%以上。",
    ),
    "py-forest": (
        "番禺区组织秋冬季森林防火演练",
        "　　11月24日，番禺区在大夫山森林公园组织秋冬季森林防火应急演练，区应急管理局、林业部门和消防救援队伍共260人参加，"
        "演练检验了火情发现、扑救和人员疏散等环节。",
    ),
    "py-lychee": (
        "番禺区农业产业园带动农民增收",
        "　　番禺区现代农业产业园今年实现产值21.5亿元，带动周边农户3800户，户均增收2.6万元。",
    ),
    "py-canal": (
        "番禺区沙湾古镇获评国家级旅游休闲街区",
        "　　近日，番禺区沙湾古镇入选国家级旅游休闲街区名单。古镇今年接待游客420万人次，旅游收入同比增长19%。",
    ),
    "py-auto": (
        "番禺区汽车产业集群产值突破千亿元",
        "　　1至10月，番禺区汽车产业集群实现产值1036亿元，同比增长8.9%，新能源汽车产量占比达到41%。",
    ),
    "py-orphan": (
        "番禺区完成市桥河水环境提升工程",
        "　　番禺区市桥河水环境提升工程全面完工，完成河道清淤12万立方米，新建截污管道9公里，"
        "市桥河主要断面水质稳定达到Ⅳ类。",
    ),
    "py-flood": (
        "番禺区完成水闸安全鉴定",
        "　　番禺区完成辖内138座水闸安全鉴定，对鉴定为三类闸的11座水闸制定除险加固计划，汛前全部完成加固。",
    ),
    "hz-birds": (
        "海珠湿地迎来越冬候鸟高峰",
        "　　11月以来，海珠国家湿地公园迎来越冬候鸟迁徙高峰，共记录鸟类87种、1.3万余只，其中越冬候鸟31种，较去年同期增加6种。"
        "国家二级保护动物黑脸琵鹭连续第三年在湿地越冬。",
    ),
    "hz-pazhou": (
        "海珠区琶洲数字经济试验区新签约项目12个",
        "　　11月25日，琶洲数字经济试验区举行项目集中签约仪式，12个项目签约落户，计划总投资168亿元，"
        "涵盖人工智能、工业互联网和数字创意等领域。",
    ),
    "hz-waterlog": (
        "海珠区完成城市积水点整治",
        "　　海珠区今年完成城市积水点整治28处，新建雨水管渠14公里，今年汛期全区未出现严重内涝。",
    ),
    "hz-canton": (
        "海珠区服务保障广交会期间城市运行",
        "　　海珠区成立广交会服务保障指挥部，广交会期间共出动城管、交警、志愿者等保障力量1.6万人次，"
        "琶洲地区交通总体平稳有序。",
    ),
    "hz-market": (
        "海珠区中大纺织商圈转型升级取得进展",
        "　　海珠区推动中大纺织商圈转型升级，今年疏解批发市场和物流园区17个，引进设计、检测等时尚产业企业65家。",
    ),
    "hz-library": (
        "海珠区新建社区图书馆分馆20个",
        "　　海珠区今年新建社区图书馆分馆20个，全区公共图书馆服务网点达到118个，实现通借通还。",
    ),
    "hz-emergency": (
        "海珠区开展台风防御复盘评估",
        "　　海珠区对今年台风防御工作开展复盘评估，梳理问题清单23项，修订完善应急预案6部，"
        "新建应急避护场所12处。",
    ),
    "fgw-projects": (
        "市发展改革委召开重点项目建设推进会",
        "　　11月25日，市发展改革委召开全市重点项目建设推进会。今年全市安排重点项目842个，"
        "1至10月完成投资4012亿元，完成年度计划的88.6%。会议要求各区、各部门抓住年底施工黄金期，确保完成全年投资目标。",
    ),
    "fgw-investment": (
        "我市前三季度固定资产投资增长6.8%",
        "　　前三季度，全市固定资产投资同比增长6.8%，其中工业投资增长13.2%，基础设施投资增长7.5%。"
        "新开工亿元以上项目287个。",
    ),
    "fgw-price": (
        "我市做好冬季重要民生商品保供稳价",
        "　　市发展改革委会同有关部门启动冬季重要民生商品保供稳价工作，落实猪肉、蔬菜储备，"
        "建立重点商品价格日监测制度，目前全市主要副食品价格总体平稳。",
    ),
    "fgw-commission": (
        "关于我市推动低空经济发展的情况",
        "　　今年以来，我市出台低空经济发展实施方案，建成无人机起降点86个，开通城市低空航线23条，"
        "低空经济相关企业达到520家，产业规模突破300亿元。",
    ),
    "fgw-energy": (
        "我市完成年度节能降碳目标任务",
        "　　1至10月，全市单位地区生产总值能耗同比下降3.6%，提前完成年度节能降碳目标，"
        "新增光伏装机容量42万千瓦。",
    ),
    "gaj-traffic": (
        "市公安局开展冬季道路交通安全整治",
        "　　市公安局决定自12月1日起在全市开展为期三个月的冬季道路交通安全整治行动，重点整治酒驾醉驾、"
        "货车违法占道和电动自行车交通违法行为。截至11月25日，已排查事故多发路段37处。",
    ),
    "gaj-fraud": (
        "市公安局破获一起特大电信网络诈骗案",
        "　　近日，市公安局破获一起特大电信网络诈骗案，抓获犯罪嫌疑人63名，冻结涉案资金1.8亿元，"
        "打掉为诈骗团伙提供“两卡”服务的窝点5个。",
    ),
    "gaj-household": (
        "市公安局推出户政业务“跨城通办”",
        "　　市公安局推出户政业务“跨城通办”，市民可在全市任一派出所办理户口迁移、身份证换领等21项业务，"
        "开通以来已办理业务2.7万宗。",
    ),
    "gaj-ebike": (
        "市公安局开展电动自行车安全隐患整治",
        "　　市公安局联合市场监管等部门开展电动自行车安全隐患整治，查处非法改装车辆3800余辆，"
        "清理楼道违规停放充电问题1.2万处。",
    ),
    "gaj-festival": (
        "市公安局部署元旦春节期间社会治安工作",
        "　　市公安局召开会议部署元旦春节期间社会治安工作，将加强重点部位巡逻防控，"
        "每日投入巡逻警力1.5万人次。",
    ),
    "gaj-commission": (
        "关于我市智慧交通建设的情况",
        "　　我市已建成智慧交通信号控制路口3260个，主干道高峰期平均车速提高12%，交通事故警情同比下降9.3%。",
    ),
    "tjj-retail": (
        "前十个月我市社会消费品零售总额增长4.2%",
        "　　1至10月，全市实现社会消费品零售总额9286.53亿元，同比增长4.2%，增速比1至9月提高0.3个百分点。"
        "其中新能源汽车零售额增长21.6%。",
    ),
    "tjj-census": (
        "市统计局完成第五次全国经济普查数据审核",
        "　　市统计局完成第五次全国经济普查数据审核验收，共审核普查单位38.6万个、个体户52.1万户，"
        "数据质量抽查差错率低于国家标准。",
    ),
    "tjj-cpi": (
        "10月份我市居民消费价格同比上涨0.4%",
        "　　10月份，全市居民消费价格同比上涨0.4%，其中食品价格上涨1.1%，非食品价格上涨0.2%。",
    ),
    "tjj-gdp": (
        "前三季度我市地区生产总值增长4.6%",
        "　　前三季度，全市实现地区生产总值2.36万亿元，同比增长4.6%，其中第三产业增加值增长5.1%。",
    ),
    "tjj-employment": (
        "我市城镇新增就业完成全年目标",
        "　　1至10月，全市城镇新增就业31.2万人，完成全年目标的104%，城镇调查失业率控制在5.2%以内。",
    ),
    "sp-rental": (
        "石牌街开展出租屋安全隐患排查整治",
        "　　石牌街组织出租屋管理员、网格员对辖内4600余栋出租屋开展安全隐患排查，"
        "整改电动自行车违规充电、消防通道堵塞等隐患318处。",
    ),
    "sp-canteen": (
        "石牌街“长者饭堂”服务覆盖全部社区",
        "　　石牌街新建长者饭堂3个，实现辖内15个社区全覆盖，日均为长者提供午餐1200余份。",
    ),
    "sp-market": (
        "石牌街整治岗顶片区占道经营",
        "　　石牌街联合城管、交警对岗顶片区开展占道经营集中整治，清理占道摊档146处，片区通行秩序明显改善。",
    ),
    "sp-grid": (
        "石牌街推行“网格+”基层治理模式",
        "　　石牌街将辖区划分为62个网格，配备专职网格员124名，今年通过网格发现并处置各类问题9800余件。",
    ),
    "th-water": (
        "天河区完成二次供水设施改造",
        "　　天河区今年完成老旧小区二次供水设施改造项目38个，惠及居民2.6万户，居民用水水压和水质明显改善。",
    ),
    "th-parking": (
        "天河区新增公共停车泊位3200个",
        "　　天河区今年通过建设立体停车库、挖潜路内泊位等方式新增公共停车泊位3200个，缓解了重点片区停车难问题。",
    ),
    "th-sports": (
        "天河区举办社区运动会",
        "　　11月22日至23日，天河区第五届社区运动会举行，21个街道的1800余名居民参加了11个项目的比赛。",
    ),
    "th-epidemic": (
        "天河区开展登革热防控灭蚊行动",
        "　　天河区组织各街道开展登革热防控集中灭蚊行动，清理积水容器1.8万个，对重点区域开展成蚊消杀。",
    ),
    "th-library": (
        "天河区图书馆新馆开放",
        "　　天河区图书馆新馆于11月20日正式开放，建筑面积2.1万平方米，藏书80万册，日均接待读者6000人次。",
    ),
    "th-twoitems-b": (
        "天河区开展冬季送温暖活动",
        "　　天河区启动冬季送温暖活动，为困难群众发放慰问金和物资共计420万元。",
    ),
    "th-dup": (
        "天河区推进政务服务“一网通办”",
        "　　天河区政务服务事项网上可办率达到99.2%，全程网办率达到86%，企业开办时间压缩至半天。",
    ),
    "th-spoof": (
        "天河区招商引资签约项目总投资超百亿元",
        "　　天河区近日举行招商引资项目集中签约，签约项目18个，总投资112亿元。",
    ),
    "joint": ("我市开展冬季用电安全宣传活动", ""),
    "yx-new1": (
        "越秀区开展消防通道专项整治",
        "　　越秀区对辖区老旧街巷消防通道开展专项整治，清理占道杂物1300余处，施划消防通道标识220处。",
    ),
    "yx-new2": ("越秀区新建社区嵌入式托育点", "　　越秀区今年新建社区嵌入式托育点12个，新增普惠托位480个。"),
    "yx-new3": (
        "越秀区开展燃气安全检查",
        "　　越秀区组织开展餐饮场所燃气安全检查，检查场所2100余家，整改隐患386处。",
    ),
    "yx-new4": (
        "越秀区举办广府文化旅游推介会",
        "　　11月24日，越秀区举办广府文化旅游推介会，推出“千年古道”等6条精品旅游线路。",
    ),
    "yx-new5": (
        "越秀区推进“智慧停车”建设",
        "　　越秀区已接入智慧停车平台的泊位达到2.3万个，市民可通过手机查询空余车位。",
    ),
    "yx-new6": (
        "越秀区完成人行道改造提升",
        "　　越秀区完成东风路等12条道路人行道改造提升，改造面积4.8万平方米。",
    ),
    "hz-new1": (
        "海珠区推进垃圾分类示范片区建设",
        "　　海珠区今年建成垃圾分类示范片区5个，居民垃圾分类参与率达到92%。",
    ),
    "hz-new2": (
        "海珠区开展安全生产大检查",
        "　　海珠区开展安全生产大检查，检查企业1460家，发现并整改隐患2170处。",
    ),
    "hz-new3": ("海珠区新增绿道12公里", "　　海珠区今年新建绿道12公里，全区绿道总长度达到168公里。"),
    "py-new1": (
        "番禺区开展农村人居环境整治",
        "　　番禺区开展农村人居环境整治提升行动，完成村庄清洁整治177个。",
    ),
    "py-new2": (
        "番禺区长隆旅游度假区接待游客创新高",
        "　　1至10月，长隆旅游度假区接待游客3100万人次，同比增长9.6%。",
    ),
    "sp-new1": (
        "石牌街开展高校周边环境整治",
        "　　石牌街联合辖区高校开展校园周边环境整治，清理无证经营摊档86处。",
    ),
    "sp-new2": ("石牌街完成背街小巷路面修复", "　　石牌街完成背街小巷路面修复23条，修复面积1.1万平方米。"),
    "gaj-new1": (
        "市公安局启动冬季反诈宣传",
        "　　市公安局启动冬季反诈宣传活动，深入社区、校园开展宣传1200场。",
    ),
    "gaj-new2": ("市公安局加强地铁站治安巡查", "　　市公安局在地铁重点站点增派警力，早晚高峰开展巡查。"),
    "tjj-new1": (
        "市统计局发布规模以上工业数据",
        "　　1至10月，全市规模以上工业增加值同比增长3.9%，其中高技术制造业增长8.2%。",
    ),
    "fgw-new1": (
        "我市推进重大项目前期工作",
        "　　市发展改革委建立重大项目前期工作台账，今年已完成立项审批项目316个。",
    ),
}

#: Long 正文 material, sentences cut to length by build.py.
LONG_SENTENCES: tuple[str, ...] = (
    "今年以来，我区坚持把城市更新作为推动高质量发展的重要抓手，统筹推进旧城镇、旧厂房、旧村庄改造。",
    "全区累计完成改造面积126万平方米，新增公共服务设施面积8.6万平方米，新建和改造道路42公里。",
    "在推进过程中，该区注重规划引领，坚持先规划、后改造，编制完成城市更新专项规划和23个片区策划方案。",
    "该区全面推行改造意愿征询、方案表决和信息公开制度，群众满意度达到96.3%。",
    "该区注重产业导入，引进数字经济、生物医药等领域企业312家，改造后片区税收较改造前增长4.7倍。",
    "同时，城市更新工作仍面临一些困难和问题，部分项目历史遗留问题复杂，土地确权和补偿安置难度大。",
    "部分项目资金平衡压力较大，融资成本偏高，产业导入质量有待提高，基层治理跟进不够。",
    "下一步，该区将完善政策体系，研究出台历史用地处置、产业用房管理等配套文件。",
    "该区将创新投融资模式，积极争取专项债券和政策性金融支持，强化产业招商，建立项目与产业匹配清单。",
    "该区还将加强社区治理，推动党建引领下的多元共治，确保改造一片、治理一片、提升一片。",
    "在民生保障方面，该区新建改建学校17所，新增学位2.3万个，新建社区卫生服务中心6个。",
    "该区完成老旧小区改造项目64个，惠及居民4.1万户，加装电梯532台，新建长者饭堂38个。",
    "在生态环境方面，该区完成黑臭水体整治和污水管网建设项目29个，新建污水管网186公里。",
    "该区新建口袋公园和社区公园41个，人均公园绿地面积达到11.2平方米，水环境质量持续改善。",
)


# ---------------------------------------------------------------- people, inboxes and time

CST = dt.timezone(dt.timedelta(hours=8))
DAILY = "inf@gz.gov.cn"
COMMISSIONED = "sfxx@gz.gov.cn"
MX = "mx.gz.gov.cn"
CODECS = {"gb2312": "gbk", "gbk": "gbk", "gb18030": "gb18030", "big5": "big5", "utf-8": "utf-8"}


@dataclass(frozen=True)
class Sender:
    """One mailbox: address, display name and the machines its mail passes through."""

    email: str
    display: str | None
    host: str  # the unit's outgoing mail server
    ip: str  # its public address
    pc: str  # the officer's machine as it says HELO
    lan: str


CHEN = Sender(
    "chenxm@th.gz.gov.cn",
    "天河区政府办 陈晓明",
    "mail.th.gz.gov.cn",
    "59.41.12.34",
    "CHENXM-PC",
    "10.20.5.23",
)
ZHANG = Sender(
    "zhangying@th.gz.gov.cn",
    "天河區政府辦 張穎",
    "mail.th.gz.gov.cn",
    "59.41.12.34",
    "TH-XXK-02",
    "10.20.5.41",
)
HUANG = Sender(
    "huanglh@yx.gz.gov.cn",
    "越秀区人民政府办公室 黄丽华",
    "smtp.yx.gz.gov.cn",
    "183.6.101.18",
    "YXQZF-HLH",
    "172.16.8.77",
)
ZHOU = Sender(
    "zhoujw@yx.gz.gov.cn",
    "越秀区政府办 周建伟",
    "smtp.yx.gz.gov.cn",
    "183.6.101.18",
    "DESKTOP-ZJW365",
    "172.16.8.92",
)
LIANG = Sender(
    "gzpy_xxk@163.com", "番禺区府办 梁嘉欣", "m16-207.163.com", "220.181.16.207", "", "113.108.77.25"
)
WU = Sender(
    "wugd@hz.gz.gov.cn",
    "海珠区政府办 吴国栋",
    "mail.hz.gz.gov.cn",
    "121.33.205.9",
    "[10.3.2.15]",
    "10.3.2.15",
)
LI_INACTIVE = Sender(
    "lizq@hz.gz.gov.cn", "海珠区政府办 李志强", "mail.hz.gz.gov.cn", "121.33.205.9", "LIZQ-PC", "10.3.2.30"
)
WANGYAN = Sender(
    "wangyan@fgw.gz.gov.cn",
    "市发改委 王䶮",
    "mail.fgw.gz.gov.cn",
    "219.137.4.66",
    "FGW-ZHC-07",
    "192.168.40.17",
)
LIU = Sender(
    "liuwei@gaj.gz.gov.cn",
    "广州市公安局 刘伟",
    "mta.gaj.gz.gov.cn",
    "219.137.9.2",
    "GAJ-BGS-LW",
    "192.168.12.5",
)
ZHENG = Sender(
    "2853017746@qq.com", "市统计局 郑晓玲", "smtpbg154.qq.com", "15.184.224.54", "", "113.108.90.12"
)
WANGF = Sender(
    "wangfang@sp.th.gz.gov.cn", "石牌街道办 王芳", "mail.th.gz.gov.cn", "59.41.12.34", "SPJ-WF", "10.20.9.8"
)
# not registered: a personal mailbox, and a new officer whose registration has not reached the city yet
CHEN_126 = Sender("chenxm1985@126.com", "陈晓明", "m15-114.126.com", "220.181.15.114", "", "14.23.61.5")
LU_NEW = Sender(
    "lujh@yx.gz.gov.cn",
    "越秀区政府办 陆嘉豪",
    "smtp.yx.gz.gov.cn",
    "183.6.101.18",
    "YXQZF-LJH",
    "172.16.8.103",
)


def _h(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def rfc_date(when: dt.datetime) -> str:
    return email.utils.format_datetime(when)


def cn(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def iso(d: dt.date) -> str:
    return d.isoformat()


def dotted(d: dt.date) -> str:
    return f"{d.year}.{d.month}.{d.day}"


def slashed(d: dt.date) -> str:
    return f"{d.year}/{d.month}/{d.day}"


def hanzi(d: dt.date) -> str:
    digits = "〇一二三四五六七八九"

    def num(n: int) -> str:
        tens, ones = divmod(n, 10)
        return (("" if tens == 1 else digits[tens]) + "十" if tens else "") + (digits[ones] if ones else "")

    return "".join(digits[int(c)] for c in str(d.year)) + f"年{num(d.month)}月{num(d.day)}日"


# ---------------------------------------------------------------- encodings


def ew(text: str, label: str, *, q: bool = False, chunk: int = 45) -> str:
    """``text`` as RFC 2047 encoded words of whole characters, folded one per line."""
    codec = CODECS[label.lower()]
    words: list[bytes] = []
    cur = b""
    for ch in text:
        b = ch.encode(codec)
        if cur and len(cur) + len(b) > chunk:
            words.append(cur)
            cur = b""
        cur += b
    if cur:
        words.append(cur)
    if q:
        return "\n ".join(f"=?{label}?Q?{_q(w)}?=" for w in words)
    return "\n ".join(f"=?{label}?B?{base64.b64encode(w).decode()}?=" for w in words)


def _q(data: bytes) -> str:
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}" for b in data)


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode().rstrip("\n")


def qp(data: bytes) -> str:
    return quopri.encodestring(data).decode("ascii").rstrip("\n")


def addr(s: Sender, label: str, *, quoted: bool = False) -> str:
    if not s.display:
        return s.email
    words = ew(s.display, label)
    return f'"{words}" <{s.email}>' if quoted else f"{words} <{s.email}>"


# ---------------------------------------------------------------- MIME assembly


def leaf(headers: list[str], payload: str | bytes) -> bytes:
    head = "\n".join(headers).encode("ascii") + b"\n\n"
    return head + (payload.encode("ascii") if isinstance(payload, str) else payload)


def multipart(
    subtype: str, boundary: str, parts: list[bytes], *, extra: str = "", preamble: str = ""
) -> tuple[str, bytes]:
    body = preamble.encode() + (b"\n" if preamble else b"")
    for p in parts:
        body += f"--{boundary}\n".encode() + p + b"\n\n"
    body += f"--{boundary}--\n".encode()
    return f'Content-Type: multipart/{subtype};{extra}\n\tboundary="{boundary}"', body


def text_leaf(
    text: str, subtype: str, label: str, cte: str, *, declared: str | None = None, flowed: bool = False
) -> bytes:
    data = text.encode(CODECS[label.lower()])
    ctype = f'Content-Type: text/{subtype};\n\tcharset="{declared or label}"'
    if flowed:
        ctype = f"Content-Type: text/{subtype}; charset={declared or label}; format=flowed"
    if cte == "base64":
        return leaf([ctype, "Content-Transfer-Encoding: base64"], b64(data))
    if cte == "quoted-printable":
        return leaf([ctype, "Content-Transfer-Encoding: quoted-printable"], qp(data))
    return leaf([ctype, f"Content-Transfer-Encoding: {cte}"], data)


@dataclass(frozen=True)
class Att:
    """A file to attach: name as shown, MIME type, content."""

    name: str
    ctype: str
    data: bytes


def att_leaf(a: Att, style: str) -> bytes:
    """An attachment part, with the file name written the way each client writes it."""
    if style == "rfc2231":  # Thunderbird: RFC 2047 name= plus RFC 2231 continuations
        quoted = urllib.parse.quote(a.name.encode("utf-8"), safe="")
        pieces = [quoted[i : i + 60] for i in range(0, len(quoted), 60)]
        prefix = "UTF-8''"
        cont = ";\n".join(f" filename*{i}*={prefix if i == 0 else ''}{p}" for i, p in enumerate(pieces))
        head = [
            f'Content-Type: {a.ctype};\n name="{ew(a.name, "UTF-8")}"',
            f"Content-Disposition: attachment;\n{cont}",
            "Content-Transfer-Encoding: base64",
        ]
    elif style == "rfc2231-single":  # webmail: one RFC 2231 parameter
        quoted = urllib.parse.quote(a.name.encode("utf-8"), safe="")
        head = [
            f"Content-Type: {a.ctype}; name*=UTF-8''{quoted}",
            "Content-Transfer-Encoding: base64",
            f"Content-Disposition: attachment; filename*=UTF-8''{quoted}",
        ]
    else:  # Foxmail / Outlook: RFC 2047 words inside the quoted parameter
        words = ew(a.name, style)
        head = [
            f'Content-Type: {a.ctype};\n\tname="{words}"',
            "Content-Transfer-Encoding: base64",
            f'Content-Disposition: attachment;\n\tfilename="{words}"',
        ]
    return leaf(head, b64(a.data))


def html_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_divs(text: str) -> str:
    out = []
    for line in text.split("\n"):
        esc = html_escape(line).replace("　", "&nbsp;&nbsp;&nbsp;&nbsp;")
        if "原始邮件" in line:
            esc = esc.replace(" ", "&nbsp;")
        out.append(f"<div>{esc}</div>" if line.strip() else "<div><br></div>")
    return "\n".join(out)


def outlook_html(text: str, charset: str, logo_cid: str | None = None) -> str:
    paras = []
    font = "新細明體" if charset == "big5" else "微软雅黑"
    for line in text.split("\n"):
        if line.strip():
            paras.append(
                f"<p class=MsoNormal><span style='font-family:\"{font}\",sans-serif'>"
                f"{html_escape(line)}<span lang=EN-US><o:p></o:p></span></span></p>"
            )
        else:
            paras.append("<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>")
    if logo_cid:
        paras.append(
            f'<p class=MsoNormal><span lang=EN-US><img width=120 height=40 id="图片_x0020_1" '
            f'src="cid:{logo_cid}"></span></p>'
        )
    return (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">'
        f'<head><meta http-equiv=Content-Type content="text/html; charset={charset}">'
        '<meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--\n'
        f"p.MsoNormal {{margin:0cm;text-align:justify;font-size:10.5pt;font-family:{font};}}\n--></style></head>"
        '<body lang=ZH-CN link="#0563C1" vlink="#954F72" style=\'text-justify-trim:punctuation\'>'
        "<div class=WordSection1>\n" + "\n".join(paras) + "\n</div></body></html>"
    )


def png(width: int, height: int, seed: int) -> bytes:
    """A small deterministic PNG (a striped badge), for logos and photos."""
    rows = b""
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            v = (x * 7 + y * 3 + seed) % 256
            row += bytes([200 - (v % 60), 30 + (y * 5) % 90, 60 + (x * 3 + seed) % 150])
        rows += bytes(row)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def corrupt_docx(data: bytes) -> bytes:
    """A .docx whose zip directory is intact but whose document.xml data is damaged (a bad download)."""
    at = data.index(b"word/document.xml") + len("word/document.xml") + 40
    return data[:at] + bytes(b ^ 0x5A for b in data[at : at + 200]) + data[at + 200 :]


def source(name: str) -> bytes:
    return (SOURCES / name).read_bytes()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# ---------------------------------------------------------------- delivery and clients

AUTO = "auto"


@dataclass(frozen=True)
class Env:
    """Delivery facts: when our MX took the message and what it stamped on it."""

    arrival: dt.datetime
    to: str = DAILY
    auth: str | None = "pass"  # "pass", None (no header) or a whole Authentication-Results value
    received: bool = True
    return_path: str | None = None  # None: the sender's address


def envelope(slug: str, s: Sender, env: Env) -> list[str]:
    rp = s.email if env.return_path is None else env.return_path
    lines = [f"Return-Path: <{rp}>", f"Delivered-To: {env.to}"]
    if env.received:
        lines.append(
            f"Received: from {s.host} ({s.host} [{s.ip}])\n\tby {MX} (Postfix) with ESMTPS id "
            f"4{_h(slug)[:11].upper()}\n\tfor <{env.to}>; {rfc_date(env.arrival)} (CST)"
        )
    domain = s.email.split("@")[1]
    if env.auth == "pass":
        lines.append(
            f"Authentication-Results: {MX};\n\tdkim=pass header.d={domain} header.s=s2026;\n\t"
            f"spf=pass smtp.mailfrom={domain};\n\tdmarc=pass (p=QUARANTINE) header.from={domain}"
        )
    elif env.auth:
        lines.append(f"Authentication-Results: {env.auth}")
    if env.received:
        hop = env.arrival - dt.timedelta(seconds=1)
        if s.pc:
            lines.append(
                f"Received: from {s.pc} (unknown [{s.lan}])\n\tby {s.host} with ESMTPSA id "
                f"{_h(slug, 'inner')[:16]};\n\t{rfc_date(hop)}"
            )
        else:
            lines.append(f"Received: from [{s.lan}] by {s.host} (webmail) with HTTPS;\n\t{rfc_date(hop)}")
    return lines


def date_line(slug: str, env: Env, date_header: str | None, skew: dt.timedelta) -> list[str]:
    if date_header is None:
        return []
    if date_header != AUTO:
        return [f"Date: {date_header}"]
    delay = dt.timedelta(seconds=4 + int(_h(slug, "delay")[:2], 16) % 40)
    return [f"Date: {rfc_date(env.arrival - delay + skew)}"]


def finish(lines: list[str], body: bytes, *, header_codec: str = "ascii") -> bytes:
    head = "\n".join(lines).encode(header_codec)
    return (head + b"\n\n" + body).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def with_attachments(
    kind: str, boundary: str, main: tuple[str, bytes], atts: list[Att], style: str, preamble: str = ""
) -> tuple[str, bytes]:
    if not atts:
        return main
    parts = [leaf([main[0]], main[1]), *(att_leaf(a, style) for a in atts)]
    return multipart(kind, boundary, parts, preamble=preamble)


def _subject(subject: str, label: str, q: bool = False) -> str:
    return f"Subject: {ew(subject, label, q=q)}"


def foxmail(
    slug: str,
    s: Sender,
    subject: str,
    body: str,
    env: Env,
    *,
    label: str = "GB2312",
    atts: tuple[Att, ...] = (),
    date_header: str | None = AUTO,
    skew: dt.timedelta = ZERO,
    extra: tuple[str, ...] = (),
    signature: bool = False,
    declared: str | None = None,
) -> bytes:
    """Foxmail 7.2: base64 text/plain plus quoted-printable text/html, quoted encoded-word names."""
    num = int(_h(slug, "b")[:12], 16) % 10**12
    plain = body + (f"\n\n\n\n{s.email}\n" if signature else "")
    sig_html = (
        (
            '<div><br></div><hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" align="left">\n'
            f'<div><span><div style="MARGIN: 10px; FONT-FAMILY: verdana; FONT-SIZE: 10pt"><div>{s.email}'
            "</div></div></span></div>\n"
        )
        if signature
        else ""
    )
    html = (
        f'<html><head><meta http-equiv="content-type" content="text/html; charset={declared or label}">'
        "<style>body { line-height: 1.5; }body { font-size: 14px; font-family: 'Microsoft YaHei UI'; "
        "color: rgb(0, 0, 0); line-height: 1.5; }</style></head><body>\n"
        f"{html_divs(body)}\n{sig_html}</body></html>"
    )
    alt = multipart(
        "alternative",
        f"----=_00{2 if atts else 1}_NextPart{num:012d}_=----",
        [
            text_leaf(plain, "plain", label, "base64", declared=declared),
            text_leaf(html, "html", label, "quoted-printable", declared=declared),
        ],
        preamble="" if atts else "This is a multi-part message in MIME format.\n",
    )
    ctype, payload = with_attachments(
        "mixed",
        f"----=_001_NextPart{num:012d}_=----",
        alt,
        list(atts),
        label,
        preamble="This is a multi-part message in MIME format.\n",
    )
    domain = s.email.split("@")[1]
    stamp = (env.arrival + skew).strftime("%Y%m%d%H%M%S")
    lines = [
        *envelope(slug, s, env),
        *date_line(slug, env, date_header, skew),
        f"From: {addr(s, label, quoted=True)}",
        f'To: "inf" <{env.to}>',
        _subject(subject, label),
        "X-Priority: 3",
        f"X-GUID: {_h(slug, 'guid')[:8].upper()}-{_h(slug, 'g2')[:4].upper()}-"
        f"{_h(slug, 'g3')[:4].upper()}-{_h(slug, 'g4')[:12].upper()}",
        f"X-Has-Attach: {'yes' if atts else 'no'}",
        "X-Mailer: Foxmail 7.2.25.228[cn]",
        "Mime-Version: 1.0",
        f"Message-ID: <{stamp}{num % 10**7:07d}@{domain}>",
        *extra,
        ctype,
    ]
    return finish(lines, payload)


def outlook(
    slug: str,
    s: Sender,
    subject: str,
    body: str,
    env: Env,
    *,
    label: str = "gb2312",
    atts: tuple[Att, ...] = (),
    logo: bool = False,
    date_header: str | None = AUTO,
    skew: dt.timedelta = ZERO,
    extra: tuple[str, ...] = (),
    message_id: str | None = AUTO,
) -> bytes:
    """Outlook 2016/365: quoted-printable alternative, Thread-Index, inline cid: logo in multipart/related."""
    hx = _h(slug, "o")
    tag = f"{hx[:4].upper()}_{hx[4:12].upper()}.{hx[12:20].upper()}"
    cid = f"image001.png@{hx[12:20].upper()}.{hx[20:28].upper()}" if logo else None
    alt = multipart(
        "alternative",
        f"----=_NextPart_001_{tag}",
        [
            text_leaf(body, "plain", label, "quoted-printable"),
            text_leaf(outlook_html(body, label, cid), "html", label, "quoted-printable"),
        ],
    )
    main = alt
    if logo:
        image = leaf(
            [
                'Content-Type: image/png;\n\tname="image001.png"',
                "Content-Transfer-Encoding: base64",
                f"Content-ID: <{cid}>",
            ],
            b64(png(120, 40, 7)),
        )
        main = multipart(
            "related",
            f"----=_NextPart_002_{tag}",
            [leaf([alt[0]], alt[1]), image],
            extra='\n\ttype="multipart/alternative";',
        )
    ctype, payload = with_attachments(
        "mixed",
        f"----=_NextPart_000_{tag}",
        main,
        list(atts),
        label,
        preamble="This is a multipart message in MIME format.\n",
    )
    if not atts:
        payload = b"This is a multipart message in MIME format.\n\n" + payload
    domain = s.email.split("@")[1]
    mid = f"<000001db{hx[:4]}${hx[4:12]}${hx[12:20]}$@{domain}>" if message_id == AUTO else message_id
    lines = [
        *envelope(slug, s, env),
        f"From: {addr(s, label)}",
        f"To: <{env.to}>",
        _subject(subject, label),
        *date_line(slug, env, date_header, skew),
        *([f"Message-ID: {mid}"] if mid else []),
        "MIME-Version: 1.0",
        ctype,
        "X-Mailer: Microsoft Outlook 16.0",
        f"Thread-Index: {base64.b64encode(bytes.fromhex(hx[:44])).decode()}",
        "Content-Language: zh-cn",
        *extra,
    ]
    return finish(lines, payload)


def thunderbird(
    slug: str,
    s: Sender,
    subject: str,
    body: str,
    env: Env,
    *,
    atts: tuple[Att, ...] = (),
    date_header: str | None = AUTO,
    skew: dt.timedelta = ZERO,
    extra: tuple[str, ...] = (),
    date_tz: dt.tzinfo | None = None,
) -> bytes:
    """Thunderbird 115: 8-bit UTF-8 text/plain, format=flowed, RFC 2231 attachment names."""
    hx = _h(slug, "t")
    main = (
        text_leaf(body, "plain", "UTF-8", "8bit", flowed=True).split(b"\n\n", 1)[0].decode(),
        text_leaf(body, "plain", "UTF-8", "8bit", flowed=True).split(b"\n\n", 1)[1],
    )
    ctype, payload = with_attachments(
        "mixed",
        f"------------{hx[:24]}",
        main,
        list(atts),
        "rfc2231",
        preamble="This is a multi-part message in MIME format.",
    )
    if date_tz is not None and date_header == AUTO:
        delay = dt.timedelta(seconds=4 + int(_h(slug, "delay")[:2], 16) % 40)
        date_header = rfc_date((env.arrival - delay + skew).astimezone(date_tz))
    lines = [
        *envelope(slug, s, env),
        f"Message-ID: <{hx[:8]}-{hx[8:12]}-{hx[12:16]}-{hx[16:20]}-{hx[20:32]}@{s.email.split('@')[1]}>",
        *date_line(slug, env, date_header, skew),
        "MIME-Version: 1.0",
        "User-Agent: Mozilla Thunderbird",
        "Content-Language: zh-CN",
        f"To: {env.to}",
        f"From: {addr(s, 'UTF-8')}",
        _subject(subject, "UTF-8"),
        *extra,
        ctype,
    ]
    return finish(lines, payload)


def webmail_163(
    slug: str,
    s: Sender,
    subject: str,
    body: str,
    env: Env,
    *,
    atts: tuple[Att, ...] = (),
    date_header: str | None = AUTO,
    skew: dt.timedelta = ZERO,
    extra: tuple[str, ...] = (),
) -> bytes:
    """163.com (Coremail) webmail: HTML only, UTF-8, base64."""
    hx = _h(slug, "163")
    html = (
        '<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
        f'{html_divs(body)}</div><br><br><span title="neteasefooter"><p>&nbsp;</p></span>'
    )
    main = (
        text_leaf(html, "html", "UTF-8", "base64").split(b"\n\n", 1)[0].decode(),
        text_leaf(html, "html", "UTF-8", "base64").split(b"\n\n", 1)[1],
    )
    ctype, payload = with_attachments(
        "mixed",
        f"----=_Part_{int(hx[:6], 16)}_{int(hx[6:14], 16)}.1764{hx[14:20]}",
        main,
        list(atts),
        "UTF-8",
    )
    lines = [
        *envelope(slug, s, env),
        *date_line(slug, env, date_header, skew),
        f"From: {addr(s, 'UTF-8')}",
        f"To: {env.to}",
        _subject(subject, "UTF-8"),
        "X-Priority: 3",
        "X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20240801(9fd56ae2) Copyright (c) 2002-2026 "
        "www.mailtech.cn 163com",
        "X-NTES-SC: AL_Qu2cAf2Zt0ot5yObZukfmUgWjuw/WsK4v/8=",
        ctype,
        "MIME-Version: 1.0",
        f"Message-ID: <{hx[:8]}.{hx[8:12]}.{hx[12:23]}.Coremail.{s.email}>",
        "X-Coremail-Locale: zh_CN",
        f"X-CM-TRANSID:{hx[23:40]}--.{hx[40:44]}",
        *extra,
    ]
    return finish(lines, payload)


def qqmail(
    slug: str,
    s: Sender,
    subject: str,
    body: str,
    env: Env,
    *,
    atts: tuple[Att, ...] = (),
    date_header: str | None = AUTO,
    skew: dt.timedelta = ZERO,
    extra: tuple[str, ...] = (),
) -> bytes:
    """QQ Mail: HTML only, UTF-8, base64, Tencent headers."""
    hx = _h(slug, "qq")
    html = f'<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">{html_divs(body)}'
    main = (
        text_leaf(html, "html", "utf-8", "base64").split(b"\n\n", 1)[0].decode(),
        text_leaf(html, "html", "utf-8", "base64").split(b"\n\n", 1)[1],
    )
    ctype, payload = with_attachments(
        "mixed",
        f"----=_NextPart_{hx[:8].upper()}_{hx[8:16].upper()}_{hx[16:24].upper()}",
        main,
        list(atts),
        "utf-8",
        preamble="This is a multi-part message in MIME format.\n",
    )
    lines = [
        *envelope(slug, s, env),
        f"X-QQ-mid: xmsezb{hx[:6]}t{int(env.arrival.timestamp())}t{hx[6:12]}",
        f"From: {addr(s, 'utf-8', quoted=True)}",
        f'To: "=?utf-8?B?aW5m?=" <{env.to}>',
        _subject(subject, "utf-8"),
        "Mime-Version: 1.0",
        ctype,
        *date_line(slug, env, date_header, skew),
        "X-Priority: 3",
        f"Message-ID: <tencent_{hx[:32].upper()}@qq.com>",
        "X-QQ-MIME: TCMime 1.0 by Tencent",
        "X-Mailer: QQMail 2.x",
        "X-QQ-Mailer: QQMail 2.x",
        *extra,
    ]
    return finish(lines, payload)


def coremail_gov(
    slug: str,
    s: Sender,
    subject_header: str,
    body: str,
    env: Env,
    *,
    header_codec: str = "ascii",
    from_header: str | None = None,
) -> bytes:
    """The government Coremail webmail: plain + HTML alternative in UTF-8; subject header given as written."""
    hx = _h(slug, "cm")
    html = (
        f'<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">{html_divs(body)}</div>'
    )
    ctype, payload = multipart(
        "alternative",
        f"----=_Part_{int(hx[:6], 16)}_{int(hx[6:14], 16)}.{hx[14:27]}",
        [text_leaf(body, "plain", "UTF-8", "base64"), text_leaf(html, "html", "UTF-8", "base64")],
    )
    lines = [
        *envelope(slug, s, env),
        *date_line(slug, env, AUTO, ZERO),
        from_header or f"From: {addr(s, 'UTF-8')}",
        f"To: {env.to}",
        subject_header,
        "X-Priority: 3",
        "X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20230109(dcb5de15) "
        "Copyright (c) 2002-2026 www.mailtech.cn gz.gov.cn",
        ctype,
        "MIME-Version: 1.0",
        f"Message-ID: <{hx[:8]}.{hx[8:12]}.{hx[12:23]}.Coremail.{s.email}>",
        "X-Coremail-Locale: zh_CN",
    ]
    return finish(lines, payload, header_codec=header_codec)


# ---------------------------------------------------------------- items and 落款


def labelled(
    unit: str,
    name: str | None,
    phone: str | None,
    date: str | None,
    labels: tuple[str, str, str, str] = ("作者单位", "姓名", "联系电话", "日期"),
    colon: str = "：",
) -> str:
    values = (unit, name, phone, date)
    return "\n".join(f"{label}{colon}{v}" for label, v in zip(labels, values, strict=True) if v is not None)


def oneline(
    unit: str, name: str, phone: str, date: str, parens: str = "（）", phone_label: str = "电话："
) -> str:
    return f"{parens[0]}{unit} {name} {phone_label}{phone} {date}{parens[1]}"


def T(key: str) -> str:
    return ITEMS[key][0]


def item(key: str, sig: str, *, title: str | None = None, main: str | None = None, tail: str = "") -> str:
    t, m = ITEMS[key]
    return f"{title or t}\n\n{main or m}\n\n{sig}\n{tail}"


def hk(text: str) -> str:
    """Simplified → Traditional script, as a Traditional-configured Windows types it."""
    return str(opencc.OpenCC("s2t").convert(text))


def word_count(text: str) -> int:
    """字 the way Word's 字數統計 counts them (SPEC.md): CJK and full-width marks 1, other runs 1."""
    n, in_run = 0, False
    for ch in text:
        if ch.isspace() or ch in "\u3000\u200b":
            in_run = False
        elif "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef":
            n, in_run = n + 1, False
        else:
            n, in_run = n + (0 if in_run else 1), True
    return n


def main_of(zi: int) -> str:
    """A 正文 of exactly ``zi`` 字, cut from LONG_SENTENCES at a character and closed with 。."""
    text = "　　"
    for sentence in LONG_SENTENCES * 3:
        text += sentence
        if word_count(text) > zi:
            break
    while word_count(text) > zi - 1 or not "\u4e00" <= text[-1] <= "\u9fff":
        text = text[:-1]
    filler = "相关工作"
    while word_count(text) < zi - 1:
        text += filler[len(text) % len(filler)]
    text += "。"
    assert word_count(text) == zi
    return text


FIRE_DOCX = Att("天河区冬季消防安全大检查工作情况.docx", DOCX, source("fire-check.docx"))
TRAFFIC_DOC = Att(
    "市公安局冬季道路交通安全整治行动方案.doc", "application/msword", source("traffic-plan.doc")
)
RETAIL_WPS = Att("前十个月消费品零售分析.wps", "application/kswps", source("retail-stats.doc"))
WETLAND_DOCX = Att("海珠湿地越冬候鸟监测情况报告.docx", DOCX, source("wetland-birds.docx"))
WETLAND_PDF = Att("海珠湿地越冬候鸟监测情况报告.pdf", "application/pdf", source("wetland-birds.pdf"))
LONG_DOCX = Att("天河区城市更新工作情况汇报.docx", DOCX, source("urban-renewal-long.docx"))
LONG_DOC = Att("番禺区城市更新工作情况汇报.doc", "application/msword", source("urban-renewal-long.doc"))
ENCRYPTED_DOC = Att(
    "市公安局冬季道路交通安全整治行动方案（加密）.doc",
    "application/msword",
    source("traffic-plan-encrypted.doc"),
)
CORRUPT_DOCX = Att("天河区城市更新材料.docx", DOCX, corrupt_docx(source("fire-check.docx")))
RETAIL_XLS = Att("1-10月社会消费品零售总额.xls", "application/vnd.ms-excel", source("retail-table.xls"))
PDF_AS_DOC = Att("越秀区燃气安全检查情况.doc", "application/msword", source("wetland-birds.pdf"))
PHOTO = Att("现场照片.png", "image/png", png(160, 120, 42))

OUTLOOK_HISTORY = (
    "\n-----原始邮件-----\n发件人: 市政府办公厅新闻信息处 [mailto:inf@gz.gov.cn] \n发送时间: 2026年11月25日 17:32\n"
    "收件人: zhoujw@yx.gz.gov.cn\n主题: 关于报送北京路步行街改造情况的约请\n\n周建伟同志：\n"
    "请于明天上午报送北京路步行街二期改造完成情况，450字以内。\n\n"
    "作者单位：市政府办公厅新闻信息处\n姓名：林敏\n联系电话：020-83555123\n日期：2026年11月25日\n"
)
OUTLOOK365_FORWARD = (
    "\n________________________________\n发件人: 交警支队秘书科 <mishu@jj.gaj.gz.gov.cn>\n"
    "发送时间: 2026年11月26日 8:47\n收件人: 刘伟 <liuwei@gaj.gz.gov.cn>\n主题: 冬季整治方案\n\n"
    "刘科：附件是冬季整治行动方案，请审核后报市府办。\n"
)
QQ_HISTORY = (
    '\n\n------------------ 原始邮件 ------------------\n发件人: "市政府办公厅新闻信息处"<inf@gz.gov.cn>;\n'
    '发送时间: 2026年11月25日(星期三) 下午4:10\n收件人: "郑晓玲"<2853017746@qq.com>;\n'
    "主题: 请报送经济普查数据审核情况\n\n请报送第五次全国经济普查数据审核完成情况。\n"
)
FOXMAIL_FORWARD = (
    "\n\n\n发件人： 石牌街综治办\n发送时间： 2026-11-25 16:02\n收件人： 王芳\n主题： 出租屋排查情况\n\n"
    "王芳：出租屋排查数据已核实，可以报送。\n"
)


def oa_system(
    slug: str,
    s: Sender,
    subject_header: str,
    body: bytes,
    env: Env,
    *,
    declared: str = "gb2312",
    date_header: str | None = AUTO,
    message_id: bool = True,
    header_codec: str = "ascii",
) -> bytes:
    """A unit's office-automation system (协同办公) sending through JMail: one base64 text/plain part."""
    hx = _h(slug, "oa")
    lines = [
        *envelope(slug, s, env),
        f"From: {addr(s, 'gb2312')}",
        f"To: {env.to}",
        subject_header,
        *date_line(slug, env, date_header, ZERO),
        *([f"Message-ID: <JMAIL{hx[:12].upper()}@{s.host}>"] if message_id else []),
        "MIME-Version: 1.0",
        f'Content-Type: text/plain; charset="{declared}"',
        "Content-Transfer-Encoding: base64",
        "X-Mailer: Dimac JMail 4.5.0",
        "X-Priority: 3",
    ]
    return finish(lines, b64(body).encode(), header_codec=header_codec)


def auto_reply(slug: str, s: Sender, subject: str, text: str, env: Env, extra: tuple[str, ...]) -> bytes:
    """An Outlook/Exchange automatic reply (自动答复)."""
    return outlook(slug, s, subject, text, env, extra=extra)


def dsn(slug: str, env: Env) -> bytes:
    """A delivery status notification: a receipt we sent to a unit bounced back to the daily inbox."""
    s = Sender("MAILER-DAEMON@mail.hz.gz.gov.cn", None, "mail.hz.gz.gov.cn", "121.33.205.9", "", "")
    human = (
        "This is the mail system at host mail.hz.gz.gov.cn.\n\nI'm sorry to have to inform you that your message "
        "could not\nbe delivered to one or more recipients.\n\n<liming@hz.gz.gov.cn>: user unknown\n"
    )
    status = (
        "Reporting-MTA: dns; mail.hz.gz.gov.cn\nArrival-Date: "
        + rfc_date(env.arrival - dt.timedelta(seconds=3))
        + "\n\nFinal-Recipient: rfc822; liming@hz.gz.gov.cn\nOriginal-Recipient: rfc822;liming@hz.gz.gov.cn\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: x-unix; user unknown\n"
    )
    original = (
        "Return-Path: <inf@gz.gov.cn>\nFrom: =?UTF-8?B?5biC5pS/5bqc5Yqe5YWs5Y6F5paw6Ze75L+h5oGv5aSE?= "
        "<inf@gz.gov.cn>\nTo: liming@hz.gz.gov.cn\nSubject: =?UTF-8?B?5Zue5omn77ya44CQ5rW354+g5Yy644CR?=\n"
        "Auto-Submitted: auto-replied\nX-Loop: mailgate\nMessage-ID: <receipt-20261126-0042@gz.gov.cn>\n"
    )
    bnd = f"{_h(slug)[:10].upper()}.1764126000/mail.hz.gz.gov.cn"
    ctype, payload = multipart(
        "report",
        bnd,
        [
            leaf(["Content-Description: Notification", "Content-Type: text/plain; charset=us-ascii"], human),
            leaf(["Content-Description: Delivery report", "Content-Type: message/delivery-status"], status),
            leaf(
                ["Content-Description: Undelivered Message Headers", "Content-Type: text/rfc822-headers"],
                original,
            ),
        ],
        extra=" report-type=delivery-status;",
        preamble="This is a MIME-encapsulated message.\n",
    )
    lines = [
        *envelope(slug, s, Env(env.arrival, auth=None, return_path="")),
        f"Date: {rfc_date(env.arrival - dt.timedelta(seconds=2))}",
        "From: MAILER-DAEMON@mail.hz.gz.gov.cn (Mail Delivery System)",
        "Subject: Undelivered Mail Returned to Sender",
        f"To: {DAILY}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        ctype,
        f"Message-Id: <20261126{_h(slug)[:8].upper()}@mail.hz.gz.gov.cn>",
    ]
    return finish(lines, payload)


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """One message and the verdict SPEC.md implies for it."""

    file: str
    verdict: str
    rules: tuple[str, ...]
    note: str
    raw: bytes | None  # None: generated at test time (too large to commit)


@dataclass
class Run:
    """One invocation of ``mailgate check`` over messages in order, against a fresh store."""

    name: str
    inbox: str
    received_at: str | None
    cases: list[Case] = field(default_factory=list)

    def add(self, file: str, verdict: str, rules: tuple[str, ...], note: str, raw: bytes | None) -> None:
        self.cases.append(Case(file, verdict, rules, note, raw))


class Clock:
    """Arrival times for a run: one message every few minutes."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start

    def next(self) -> dt.datetime:
        self.at += dt.timedelta(minutes=6, seconds=13)
        return self.at


D = dt.date(2026, 11, 26)
ACC, REJ, IGN = "accepted", "rejected", "ignored"


def _with(s: Sender, **changes: Any) -> Sender:
    return dataclasses.replace(s, **changes)


def daily_main() -> Run:
    run = Run("daily-main", "daily", None)
    clock = Clock(dt.datetime(2026, 11, 26, 8, 25, 0, tzinfo=CST))
    y = D - dt.timedelta(days=1)
    th, yx = "天河区人民政府办公室", "越秀区政府办"

    def env(to: str = DAILY, **kw: Any) -> Env:
        return Env(clock.next(), to=to, **kw)

    # ---- accepted, every client and 落款 form
    f = "foxmail-gb2312-labelled.eml"
    run.add(
        f,
        ACC,
        (),
        "Foxmail 7.2, GB2312 base64 text/plain + QP html, labelled 落款 with full-width colons",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("th-village"),
            item("th-village", labelled(th, "陈晓明", "020-38622123", cn(D))),
            env(),
        ),
    )
    f = "foxmail-gbk-docx-halfwidth-labels.eml"
    run.add(
        f,
        ACC,
        (),
        "Foxmail GBK, .docx attachment named with RFC 2047 words, 报送单位/撰稿人/电话/时间 with "
        "half-width colons, ISO date, 8-digit phone without area code, Foxmail signature (address) below",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("th-fire"),
            item(
                "th-fire",
                labelled(
                    "天河区政府办",
                    "陈晓明",
                    "38622123",
                    iso(D),
                    labels=("报送单位", "撰稿人", "电话", "时间"),
                    colon=":",
                ),
            ),
            env(),
            label="GBK",
            atts=(FIRE_DOCX,),
            signature=True,
        ),
    )
    f = "outlook2016-related-logo-oneline.eml"
    run.add(
        f,
        ACC,
        (),
        "Outlook 2016 multipart/related with an inline cid: logo (not an attachment), one-line 落款",
        outlook(
            f,
            HUANG,
            "【越秀区】" + T("yx-temple"),
            item(
                "yx-temple",
                oneline("越秀区政府办", "黄丽华", "020-83123456", cn(D)),
                tail="\n广州市越秀区人民政府办公室\n",
            ),
            env(),
            logo=True,
        ),
    )
    f = "outlook365-re-original-history.eml"
    run.add(
        f,
        ACC,
        (),
        "RE: prefix; Outlook -----原始邮件----- history below carries another 落款 (not counted); "
        "单位/联系人/手机 labels, 2026.11.26",
        outlook(
            f,
            ZHOU,
            "RE: 【越秀区】" + T("yx-beijingroad"),
            item(
                "yx-beijingroad",
                labelled(yx, "周建伟", "13802281234", dotted(D), labels=("单位", "联系人", "手机", "日期")),
                tail=OUTLOOK_HISTORY,
            ),
            env(),
        ),
    )
    f = "outlook365-fw-doc-extension.eml"
    run.add(
        f,
        ACC,
        (),
        "FW: prefix, Outlook 365 forward history (发件人:/发送时间:), .doc attachment, extension 转2301, "
        "2026/11/26, 作者 label",
        outlook(
            f,
            LIU,
            "FW: 【市公安局】" + T("gaj-traffic"),
            item(
                "gaj-traffic",
                labelled(
                    "市公安局办公室",
                    "刘伟",
                    "020-83118110转2301",
                    slashed(D),
                    labels=("作者单位", "作者", "联系电话", "日期"),
                ),
                tail=OUTLOOK365_FORWARD,
            ),
            env(),
            atts=(TRAFFIC_DOC,),
        ),
    )
    f = "163-html-only-hanzi-date.eml"
    run.add(
        f,
        ACC,
        (),
        "163 webmail, HTML only, UTF-8 base64; date 二〇二六年十一月二十六日; mobile phone",
        webmail_163(
            f,
            LIANG,
            "【番禺区】" + T("py-talent"),
            item("py-talent", labelled("番禺区人民政府办公室", "梁嘉欣", "13926012345", hanzi(D))),
            env(),
        ),
    )
    f = "qq-html-reply-original.eml"
    run.add(
        f,
        ACC,
        (),
        "QQ Mail HTML only, 回复： prefix, ------------------ 原始邮件 ------------------ history "
        "(with &nbsp;), 撰稿人 label",
        qqmail(
            f,
            ZHENG,
            "回复：【市统计局】" + T("tjj-census"),
            item(
                "tjj-census",
                labelled(
                    "市统计局综合处",
                    "郑晓玲",
                    "020-83123788",
                    cn(D),
                    labels=("作者单位", "撰稿人", "联系电话", "日期"),
                ),
                tail=QQ_HISTORY,
            ),
            env(),
        ),
    )
    f = "big5-outlook-hongkong-traditional.eml"
    run.add(
        f,
        ACC,
        (),
        "Big5 Traditional (Hong Kong Windows), 【天河區】, Traditional labels 作者單位/聯繫電話",
        outlook(
            f,
            ZHANG,
            "【天河區】" + hk(T("th-fintech")),
            hk(
                item(
                    "th-fintech",
                    labelled(
                        "天河區人民政府辦公室",
                        "張穎",
                        "020-38622456",
                        cn(D),
                        labels=("作者單位", "姓名", "聯繫電話", "日期"),
                    ),
                )
            ),
            env(),
            label="big5",
        ),
    )
    f = "thunderbird-utf8-flowed-sigdash.eml"
    run.add(
        f,
        ACC,
        (),
        "Thunderbird 8-bit UTF-8 format=flowed, (020) phone, ISO date of yesterday, '-- ' signature",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-pazhou"),
            item(
                "hz-pazhou",
                labelled("海珠区人民政府办公室", "吴国栋", "(020)89012345", iso(y)),
                tail="-- \n海珠区人民政府办公室综合科\n广州市海珠区江南大道中\n",
            ),
            env(),
        ),
    )
    f = "thunderbird-rfc2231-docx.eml"
    run.add(
        f,
        ACC,
        (),
        "Thunderbird .docx with RFC 2231 filename*0*/filename*1* continuations, extension -203",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-birds"),
            item("hz-birds", labelled("海珠区政府办", "吴国栋", "020-89012345-203", cn(D))),
            env(),
            atts=(WETLAND_DOCX,),
        ),
    )
    f = "foxmail-gb18030-ext-a-name.eml"
    run.add(
        f,
        ACC,
        (),
        "GB18030 with 䶮 (CJK Ext. A, not in GBK) in the display name and 落款",
        foxmail(
            f,
            WANGYAN,
            "【市发展改革委】" + T("fgw-projects"),
            item("fgw-projects", labelled("市发展改革委综合处", "王䶮", "020-83133456", cn(D))),
            env(),
            label="gb18030",
        ),
    )
    f = "outlook-split-encoded-words-zhongda.eml"
    run.add(
        f,
        ACC,
        (),
        "【重大】; subject split over five gb2312 encoded words",
        outlook(
            f,
            LIU,
            "【市公安局】【重大】" + T("gaj-fraud"),
            item("gaj-fraud", oneline("市公安局刑侦支队", "刘伟", "020-83118110", cn(D))),
            env(),
            extra=("X-Priority: 1",),
        ),
    )
    f = "coremail-utf8-split-midchar.eml"
    whole = ("【越秀区】" + T("yx-elevator")).encode()
    split = "\n ".join(
        f"=?UTF-8?B?{base64.b64encode(whole[i : i + 10]).decode()}?=" for i in range(0, len(whole), 10)
    )
    run.add(
        f,
        ACC,
        (),
        "Coremail webmail splits the UTF-8 subject inside characters across encoded words "
        "(decoded together, as every client shows it)",
        coremail_gov(
            f,
            ZHOU,
            f"Subject: {split}",
            item("yx-elevator", labelled(yx, "周建伟", "020-83123457", cn(D))),
            env(),
        ),
    )
    f = "outlook365-square-brackets.eml"
    run.add(
        f,
        ACC,
        (),
        "[越秀区] ASCII brackets",
        outlook(
            f,
            ZHOU,
            "[越秀区]" + T("yx-onewindow"),
            item("yx-onewindow", labelled(yx, "周建伟", "020-83123457", iso(D))),
            env(),
        ),
    )
    f = "163-tortoise-brackets-halfwidth-oneline.eml"
    run.add(
        f,
        ACC,
        (),
        "〔番禺区〕 brackets; one-line 落款 in half-width parentheses with 电话:",
        webmail_163(
            f,
            LIANG,
            "〔番禺区〕" + T("py-sewage"),
            item("py-sewage", oneline("番禺区府办", "梁嘉欣", "020-84628001", dotted(D), "()", "电话:")),
            env(),
        ),
    )
    f = "thunderbird-fullwidth-square-brackets.eml"
    run.add(
        f,
        ACC,
        (),
        "［海珠区］ full-width square brackets, 2026/11/26",
        thunderbird(
            f,
            WU,
            "［海珠区］" + T("hz-library"),
            item("hz-library", labelled("海珠区政府办", "吴国栋", "020-89012345", slashed(D))),
            env(),
        ),
    )
    f = "foxmail-zhuanfa-shipai-direct.eml"
    run.add(
        f,
        ACC,
        (),
        "转发： prefix, direct-report point 【石牌街】 (alias), Foxmail forward header block below",
        foxmail(
            f,
            WANGF,
            "转发：【石牌街】" + T("sp-rental"),
            item(
                "sp-rental",
                labelled("天河区石牌街道办事处", "王芳", "020-85201234", cn(y)),
                tail=FOXMAIL_FORWARD,
            ),
            env(),
        ),
    )
    f = "qq-wps-attachment.eml"
    run.add(
        f,
        ACC,
        (),
        "QQ Mail with a WPS .wps attachment (Word 97 format inside, recognised by content)",
        qqmail(
            f,
            ZHENG,
            "【市统计局】" + T("tjj-retail"),
            item("tjj-retail", labelled("市统计局", "郑晓玲", "13660012345", cn(D))),
            env(),
            atts=(RETAIL_WPS,),
        ),
    )
    f = "coremail-raw-utf8-headers.eml"
    run.add(
        f,
        ACC,
        (),
        "raw UTF-8 Subject and From (RFC 6532), accepted",
        coremail_gov(
            f,
            HUANG,
            "Subject: 【越秀区】" + T("yx-culture"),
            item("yx-culture", labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D))),
            env(),
            header_codec="utf-8",
            from_header=f'From: "{HUANG.display}" <{HUANG.email}>',
        ),
    )
    f = "outlook-date-seven-days-old.eml"
    run.add(
        f,
        ACC,
        (),
        "落款 exactly 7 days before arrival: not stale",
        outlook(
            f,
            HUANG,
            "【越秀区】" + T("yx-flu"),
            item(
                "yx-flu",
                labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D - dt.timedelta(days=7))),
            ),
            env(),
        ),
    )
    f = "foxmail-clock-14min-slow.eml"
    run.add(
        f,
        ACC,
        (),
        "Date 14 min behind arrival: within 15 minutes",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("th-software"),
            item("th-software", labelled(th, "陈晓明", "020-38622123", cn(D))),
            env(),
            skew=dt.timedelta(minutes=-14) + dt.timedelta(seconds=45),
        ),
    )
    f = "thunderbird-date-in-utc.eml"
    run.add(
        f,
        ACC,
        (),
        "Date header written in +0000 for the same instant: no skew",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-canton"),
            item("hz-canton", labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D))),
            env(),
            date_tz=dt.UTC,
        ),
    )
    f = "outlook-after-midnight-shanghai.eml"
    arrival = dt.datetime(2026, 11, 25, 17, 40, 12, tzinfo=dt.UTC)
    run.add(
        f,
        ACC,
        (),
        "MX stamps UTC 25 Nov 17:40, i.e. 26 Nov 01:40 in Shanghai: 落款 dated 26 Nov is not future",
        outlook(
            f,
            LIU,
            "【市公安局】" + T("gaj-household"),
            item("gaj-household", labelled("市公安局", "刘伟", "020-83118110", cn(D))),
            Env(arrival),
            date_header=rfc_date((arrival - dt.timedelta(seconds=20)).astimezone(CST)),
        ),
    )
    f = "thunderbird-body-exactly-450.eml"
    run.add(
        f,
        ACC,
        (),
        "正文 of exactly 450 字 (word mode: digit runs such as 96.3% count 1)",
        thunderbird(
            f,
            WU,
            "【海珠区】海珠区城市更新工作取得新进展",
            item(
                "hz-new3",
                labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D)),
                title="海珠区城市更新工作取得新进展",
                main=main_of(450),
            ),
            env(),
        ),
    )
    f = "foxmail-jinji-source-line.eml"
    run.add(
        f,
        ACC,
        (),
        "【紧急】 marker; 来源： line after the 落款",
        foxmail(
            f,
            CHEN,
            "【天河区】【紧急】" + T("th-metro"),
            item(
                "th-metro", labelled(th, "陈晓明", "020-38622123", cn(D)), tail="来源：广州地铁集团有限公司\n"
            ),
            env(),
        ),
    )
    f = "foxmail-fullwidth-phone.eml"
    run.add(
        f,
        ACC,
        (),
        "phone typed in full-width digits ０２０－８５２０１２３４, 单位/电话 labels",
        foxmail(
            f,
            WANGF,
            "【石牌街】" + T("sp-canteen"),
            item(
                "sp-canteen",
                labelled(
                    "石牌街道办事处",
                    "王芳",
                    "０２０－８５２０１２３４",
                    iso(D),
                    labels=("单位", "姓名", "电话", "日期"),
                ),
            ),
            env(),
            label="GBK",
        ),
    )
    joint_th = (
        "　　天河区组织供电部门深入社区、学校和城中村开展冬季用电安全宣传，发放宣传资料2万份，"
        "排查出租屋私拉乱接电线问题340处。"
    )
    joint_hz = "　　海珠区联合供电部门开展冬季用电安全宣传进社区活动28场，为独居老人免费检修家用线路460户。"
    f = "foxmail-same-title-unit-a.eml"
    run.add(
        f,
        ACC,
        (),
        "same title as the next message, but from 天河区",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("joint"),
            item("joint", labelled(th, "陈晓明", "020-38622123", cn(D)), main=joint_th),
            env(),
        ),
    )
    f = "thunderbird-same-title-unit-b.eml"
    run.add(
        f,
        ACC,
        (),
        "same title from another unit (海珠区): not a revision",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("joint"),
            item("joint", labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D)), main=joint_hz),
            env(),
        ),
    )
    f = "outlook-traditional-subject-simplified-body.eml"
    run.add(
        f,
        ACC,
        (),
        "Outlook 365 UTF-8; subject 【越秀區】 and title in Traditional, body in Simplified: same after folding",
        outlook(
            f,
            ZHOU,
            "【越秀區】" + hk(T("yx-volunteer")),
            item("yx-volunteer", labelled(yx, "周建伟", "020-83123457", cn(D))),
            env(),
            label="utf-8",
        ),
    )
    f = "outlook365-utf8-fullwidth-digits-subject.eml"
    run.add(
        f,
        ACC,
        (),
        "Outlook 365 in UTF-8 (䶮 is not in GBK); subject writes ６.８％ in full width",
        outlook(
            f,
            WANGYAN,
            "【市发展改革委】我市前三季度固定资产投资增长６.８％",
            item("fgw-investment", labelled("市发展改革委", "王䶮", "020-83133456", cn(D))),
            env(),
            label="utf-8",
        ),
    )
    f = "163-untrusted-auth-results-fail.eml"
    run.add(
        f,
        ACC,
        (),
        "an Authentication-Results fail from an untrusted relay is ignored; ours says pass",
        webmail_163(
            f,
            LIANG,
            "【番禺区】" + T("py-lychee"),
            item("py-lychee", labelled("番禺区府办", "梁嘉欣", "13926012345", cn(D))),
            env(),
            extra=(
                "Authentication-Results: relay.example-forwarder.net; spf=fail smtp.mailfrom=163.com; "
                "dmarc=fail header.from=163.com",
            ),
        ),
    )
    f = "foxmail-gbk-chars-declared-gb2312.eml"
    run.add(
        f,
        ACC,
        (),
        "Foxmail declares GB2312 but the text has GBK-only 喆 (every client reads GB2312 as GBK)",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("th-sports"),
            item("th-sports", labelled(th, "张喆", "020-38622789", cn(D))),
            env(),
        ),
    )

    # ---- warnings only
    body = item("th-elderly", labelled(th, "陈晓明", "020-38622123", cn(D))).encode("gbk")
    f = "oa-jmail-no-date-header.eml"
    run.add(
        f,
        ACC,
        ("clock-skew",),
        "office-automation system sends no Date header: clock-skew warns",
        oa_system(
            f, CHEN, f"Subject: {ew('【天河区】' + T('th-elderly'), 'gb2312')}", body, env(), date_header=None
        ),
    )
    f = "foxmail-pc-clock-2h-fast.eml"
    run.add(
        f,
        ACC,
        ("clock-skew",),
        "PC clock two hours fast",
        foxmail(
            f,
            WANGF,
            "【石牌街】" + T("sp-market"),
            item("sp-market", labelled("石牌街道办事处", "王芳", "020-85201234", cn(D))),
            env(),
            skew=dt.timedelta(hours=2),
        ),
    )
    e = env()
    f = "outlook-wrong-timezone.eml"
    run.add(
        f,
        ACC,
        ("clock-skew",),
        "local time labelled +0000 (PC time zone set to UTC): 8 hours off",
        outlook(
            f,
            HUANG,
            "【越秀区】" + T("yx-market"),
            item("yx-market", labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D))),
            e,
            date_header=rfc_date((e.arrival - dt.timedelta(seconds=30)).replace(tzinfo=dt.UTC)),
        ),
    )
    f = "thunderbird-stale-ten-days.eml"
    run.add(
        f,
        ACC,
        ("stale-date",),
        "落款 dated 10 days before arrival",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-market"),
            item(
                "hz-market", labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D - dt.timedelta(days=10)))
            ),
            env(),
        ),
    )
    f = "foxmail-future-date-typo.eml"
    run.add(
        f,
        ACC,
        ("stale-date",),
        "落款 date in the future (12月6日 typed for 11月26日)",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("th-river"),
            item("th-river", labelled(th, "陈晓明", "020-38622123", "2026年12月6日")),
            env(),
        ),
    )
    f = "outlook-pc-clock-two-days-ahead.eml"
    run.add(
        f,
        ACC,
        ("clock-skew", "stale-date"),
        "PC calendar two days ahead: Date header and 落款 both in the future",
        outlook(
            f,
            ZHOU,
            "【越秀区】" + T("yx-new5"),
            item("yx-new5", labelled(yx, "周建伟", "020-83123457", cn(D + dt.timedelta(days=2)))),
            env(),
            skew=dt.timedelta(days=2),
        ),
    )
    _daily_rejects(run, env)
    _daily_ignored(run, env)
    return run


def _daily_rejects(run: Run, env: Callable[..., Env]) -> None:
    th, yx = "天河区人民政府办公室", "越秀区政府办"
    f = "126-personal-mailbox-unregistered.eml"
    run.add(
        f,
        REJ,
        ("unregistered-sender",),
        "personal 126.com mailbox, display name without the unit: only "
        "unregistered-sender (sender-name/identifier are checked only for registered senders)",
        webmail_163(
            f,
            CHEN_126,
            "【天河区】" + T("th-startup"),
            item("th-startup", labelled(th, "陈晓明", "020-38622123", cn(D))),
            env(),
        ),
    )
    f = "foxmail-inactive-officer.eml"
    run.add(
        f,
        REJ,
        ("unregistered-sender",),
        "officer 李志强 is registered but no longer active",
        foxmail(
            f,
            LI_INACTIVE,
            "【海珠区】" + T("hz-waterlog"),
            item("hz-waterlog", labelled("海珠区政府办", "李志强", "020-89012388", cn(D))),
            env(),
        ),
    )
    f = "outlook-new-officer-unregistered.eml"
    run.add(
        f,
        REJ,
        ("unregistered-sender",),
        "new 越秀区 officer not yet registered",
        outlook(
            f,
            LU_NEW,
            "【越秀区】" + T("yx-new1"),
            item("yx-new1", labelled(yx, "陆嘉豪", "020-83123466", cn(D))),
            env(),
        ),
    )
    f = "outlook-display-name-person-only.eml"
    run.add(
        f,
        REJ,
        ("sender-name",),
        "display name is only the officer's name 黄丽华",
        outlook(
            f,
            _with(HUANG, display="黄丽华"),
            "【越秀区】" + T("yx-new2"),
            item("yx-new2", labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D))),
            env(),
        ),
    )
    f = "thunderbird-no-display-name.eml"
    run.add(
        f,
        REJ,
        ("sender-name",),
        "bare address, no display name at all",
        thunderbird(
            f,
            _with(WU, display=None),
            "【海珠区】" + T("hz-new1"),
            item("hz-new1", labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D))),
            env(),
        ),
    )
    f = "foxmail-direct-point-uses-parent.eml"
    run.add(
        f,
        REJ,
        ("sender-name", "identifier"),
        "石牌街 officer shows and marks the parent unit 天河区",
        foxmail(
            f,
            _with(WANGF, display="天河区政府办 王芳"),
            "【天河区】" + T("sp-grid"),
            item("sp-grid", labelled("石牌街道办事处", "王芳", "020-85201234", cn(D))),
            env(),
        ),
    )
    f = "outlook-identifier-abbreviated.eml"
    run.add(
        f,
        REJ,
        ("identifier",),
        "【越秀】 is neither the identifier nor an alias of 越秀区",
        outlook(
            f,
            HUANG,
            "【越秀】" + T("yx-new3"),
            item("yx-new3", labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D))),
            env(),
        ),
    )
    f = "163-identifier-copied-template.eml"
    run.add(
        f,
        REJ,
        ("identifier",),
        "番禺区 officer reused a 天河区 subject template",
        webmail_163(
            f,
            LIANG,
            "【天河区】" + T("py-forest"),
            item("py-forest", labelled("番禺区府办", "梁嘉欣", "13926012345", cn(D))),
            env(),
        ),
    )
    # encoding
    body = item("th-library", labelled(th, "陈晓明", "020-38622123", cn(D))).encode("gbk")
    f = "oa-gbk-declared-latin1.eml"
    run.add(
        f,
        REJ,
        ("encoding",),
        "GBK body declared iso-8859-1: decodes to mojibake",
        oa_system(
            f,
            CHEN,
            f"Subject: {ew('【天河区】' + T('th-library'), 'gb2312')}",
            body,
            env(),
            declared="iso-8859-1",
        ),
    )
    body = item("th-water", labelled(th, "陈晓明", "020-38622123", cn(D))).encode("gbk")
    f = "oa-raw-gb2312-subject.eml"
    run.add(
        f,
        REJ,
        ("encoding",),
        "raw 8-bit GB2312 subject without RFC 2047",
        oa_system(f, CHEN, "Subject: 【天河区】" + T("th-water"), body, env(), header_codec="gbk"),
    )
    f = "foxmail-utf8-declared-gb2312.eml"
    run.add(
        f,
        REJ,
        ("encoding",),
        "UTF-8 bytes declared GB2312 (plain and html): undecodable / mojibake",
        foxmail(
            f,
            WANGF,
            "【石牌街】" + T("sp-new1"),
            item("sp-new1", labelled("石牌街道办事处", "王芳", "020-85201234", cn(D))),
            env(),
            label="UTF-8",
            declared="GB2312",
        ),
    )
    # required elements
    f = "foxmail-missing-phone.eml"
    run.add(
        f,
        REJ,
        ("required-elements",),
        "落款 has no phone",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("th-parking"),
            item("th-parking", labelled(th, "陈晓明", None, cn(D))),
            env(),
        ),
    )
    f = "outlook-missing-date.eml"
    run.add(
        f,
        REJ,
        ("required-elements",),
        "落款 has no date",
        outlook(
            f,
            LIU,
            "【市公安局】" + T("gaj-ebike"),
            item("gaj-ebike", labelled("市公安局", "刘伟", "020-83118110", None)),
            env(),
        ),
    )
    f = "thunderbird-invalid-date-nov31.eml"
    run.add(
        f,
        REJ,
        ("required-elements",),
        "2026年11月31日 is not a date",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-new2"),
            item("hz-new2", labelled("海珠区政府办", "吴国栋", "020-89012345", "2026年11月31日")),
            env(),
        ),
    )
    f = "163-phone-too-short.eml"
    run.add(
        f,
        REJ,
        ("required-elements",),
        "phone 846280 has six digits",
        webmail_163(
            f,
            LIANG,
            "【番禺区】" + T("py-flood"),
            item("py-flood", labelled("番禺区府办", "梁嘉欣", "846280", cn(D))),
            env(),
        ),
    )
    f = "outlook-subject-without-identifier.eml"
    run.add(
        f,
        REJ,
        ("required-elements",),
        "subject has no 【标识】: required-elements lists 标识; identifier does not fire when there is none",
        outlook(f, ZHOU, T("yx-new6"), item("yx-new6", labelled(yx, "周建伟", "020-83123457", cn(D))), env()),
    )
    f = "thunderbird-title-only-with-docx.eml"
    run.add(
        f,
        REJ,
        ("required-elements",),
        "no 正文: only title and 落款, the material is in the .docx",
        thunderbird(
            f,
            WU,
            "【海珠区】海珠湿地越冬候鸟监测情况",
            "海珠湿地越冬候鸟监测情况\n\n" + labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D)) + "\n",
            env(),
            atts=(WETLAND_DOCX,),
        ),
    )
    f = "foxmail-pasted-no-identifier-no-signature.eml"
    run.add(
        f,
        REJ,
        ("required-elements",),
        "no 标识 in the subject and no 落款 at all",
        foxmail(f, CHEN, T("th-epidemic"), f"{T('th-epidemic')}\n\n{ITEMS['th-epidemic'][1]}\n", env()),
    )
    # subject-title
    f = "foxmail-subject-title-differs.eml"
    run.add(
        f,
        REJ,
        ("subject-title",),
        "subject title abbreviated, body title full",
        foxmail(
            f,
            CHEN,
            "【天河区】天河区图书馆开放",
            item(
                "th-library", labelled(th, "陈晓明", "020-38622123", cn(D)), title="天河区图书馆新馆正式开放"
            ),
            env(),
        ),
    )
    f = "qq-subject-title-differs.eml"
    run.add(
        f,
        REJ,
        ("subject-title",),
        "body title line differs from the subject's title",
        qqmail(
            f,
            ZHENG,
            "【市统计局】" + T("tjj-employment"),
            item(
                "tjj-employment",
                labelled("市统计局", "郑晓玲", "13660012345", cn(D)),
                title="关于我市城镇新增就业情况的报告",
            ),
            env(),
        ),
    )
    # one-item
    two = (
        item("th-school-food", labelled(th, "陈晓明", "020-38622123", cn(D)))
        + "\n"
        + item("th-twoitems-b", labelled(th, "陈晓明", "020-38622123", cn(D)))
    )
    f = "foxmail-two-items.eml"
    run.add(
        f,
        REJ,
        ("one-item",),
        "two items, each with its own 落款, in one email",
        foxmail(f, CHEN, "【天河区】" + T("th-school-food"), two, env()),
    )
    f = "outlook-two-word-attachments.eml"
    run.add(
        f,
        REJ,
        ("one-item",),
        "two Word attachments",
        outlook(
            f,
            LIU,
            "【市公安局】" + T("gaj-festival"),
            item("gaj-festival", labelled("市公安局", "刘伟", "020-83118110", cn(D))),
            env(),
            atts=(
                TRAFFIC_DOC,
                dataclasses.replace(RETAIL_WPS, name="节日期间治安情况统计.doc", ctype="application/msword"),
            ),
        ),
    )
    # body-length
    f = "163-body-520.eml"
    run.add(
        f,
        REJ,
        ("body-length",),
        "正文 of 520 字",
        webmail_163(
            f,
            LIANG,
            "【番禺区】番禺区城市更新工作情况",
            item(
                "py-new1",
                labelled("番禺区府办", "梁嘉欣", "13926012345", cn(D)),
                title="番禺区城市更新工作情况",
                main=main_of(520),
            ),
            env(),
        ),
    )
    f = "outlook-body-451.eml"
    run.add(
        f,
        REJ,
        ("body-length",),
        "正文 of 451 字, one over",
        outlook(
            f,
            HUANG,
            "【越秀区】越秀区城市更新工作情况",
            item(
                "yx-new4",
                labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D)),
                title="越秀区城市更新工作情况",
                main=main_of(451),
            ),
            env(),
        ),
    )
    # attachments
    f = "thunderbird-pdf-attachment.eml"
    run.add(
        f,
        REJ,
        ("attachment-type",),
        "PDF attachment",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-emergency"),
            item("hz-emergency", labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D))),
            env(),
            atts=(WETLAND_PDF,),
        ),
    )
    f = "foxmail-photo-attachment.eml"
    run.add(
        f,
        REJ,
        ("attachment-type",),
        "a site photo attached (not inline, not referenced from the html)",
        foxmail(
            f,
            WANGF,
            "【石牌街】" + T("sp-new2"),
            item("sp-new2", labelled("石牌街道办事处", "王芳", "020-85201234", cn(D))),
            env(),
            atts=(PHOTO,),
        ),
    )
    f = "qq-excel-attachment.eml"
    run.add(
        f,
        REJ,
        ("attachment-type",),
        "Excel .xls (an OLE file, but not a Word document)",
        qqmail(
            f,
            ZHENG,
            "【市统计局】" + T("tjj-new1"),
            item("tjj-new1", labelled("市统计局", "郑晓玲", "13660012345", cn(D))),
            env(),
            atts=(RETAIL_XLS,),
        ),
    )
    f = "outlook-pdf-named-doc.eml"
    run.add(
        f,
        REJ,
        ("attachment-type",),
        "a PDF named .doc / application/msword: recognised by content",
        outlook(
            f,
            ZHOU,
            "【越秀区】越秀区燃气安全检查情况",
            item("yx-new3", labelled(yx, "周建伟", "020-83123457", cn(D)), title="越秀区燃气安全检查情况"),
            env(),
            atts=(PDF_AS_DOC,),
        ),
    )
    f = "outlook-encrypted-doc.eml"
    run.add(
        f,
        REJ,
        ("attachment-unreadable",),
        "password-protected .doc",
        outlook(
            f,
            LIU,
            "【市公安局】" + T("gaj-new1"),
            item("gaj-new1", labelled("市公安局", "刘伟", "020-83118110", cn(D))),
            env(),
            atts=(ENCRYPTED_DOC,),
        ),
    )
    f = "foxmail-corrupt-docx.eml"
    run.add(
        f,
        REJ,
        ("attachment-unreadable",),
        ".docx whose document.xml data is damaged",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("th-night"),
            item("th-night", labelled(th, "陈晓明", "020-38622123", cn(D))),
            env(),
            atts=(CORRUPT_DOCX,),
        ),
    )
    f = "foxmail-long-docx.eml"
    run.add(
        f,
        REJ,
        ("attachment-length",),
        ".docx of about 4900 字",
        foxmail(
            f,
            CHEN,
            "【天河区】天河区城市更新工作情况",
            item(
                "th-spoof",
                labelled(th, "陈晓明", "020-38622123", cn(D)),
                title="天河区城市更新工作情况",
                main="　　天河区城市更新工作稳步推进，详细情况见附件。",
            ),
            env(),
            atts=(LONG_DOCX,),
        ),
    )
    f = "163-long-doc.eml"
    run.add(
        f,
        REJ,
        ("attachment-length",),
        ".doc of about 4200 字",
        webmail_163(
            f,
            LIANG,
            "【番禺区】" + T("py-new2"),
            item("py-new2", labelled("番禺区府办", "梁嘉欣", "13926012345", cn(D))),
            env(),
            atts=(LONG_DOC,),
        ),
    )
    # wrong inbox
    f = "outlook-yuegao-code-to-daily.eml"
    run.add(
        f,
        REJ,
        ("wrong-inbox",),
        "【约稿:CODE】 sent to the daily inbox",
        outlook(
            f,
            WANGYAN,
            "【市发展改革委】【约稿:FGW-2026-11】" + T("fgw-commission"),
            item("fgw-commission", labelled("市发展改革委", "王䶮", "020-83133456", cn(D))),
            env(),
            label="utf-8",
        ),
    )
    f = "163-yuegao-to-daily-missing-date.eml"
    run.add(
        f,
        REJ,
        ("wrong-inbox", "required-elements"),
        "【约稿】 to the daily inbox, and no date in the 落款",
        webmail_163(
            f,
            LIANG,
            "【番禺区】【约稿】" + T("py-canal"),
            item("py-canal", labelled("番禺区府办", "梁嘉欣", "13926012345", None)),
            env(),
        ),
    )
    # several findings at once
    f = "outlook-many-problems.eml"
    run.add(
        f,
        REJ,
        ("sender-name", "required-elements", "body-length", "stale-date"),
        "display name without unit, 正文 500 字, no phone, 落款 10 days old: every finding is reported",
        outlook(
            f,
            _with(ZHOU, display="周建伟"),
            "【越秀区】越秀区城市更新情况汇报",
            item(
                "yx-new3",
                labelled(yx, "周建伟", None, cn(D - dt.timedelta(days=10))),
                title="越秀区城市更新情况汇报",
                main=main_of(500),
            ),
            env(),
        ),
    )
    f = "thunderbird-title-pdf-skew.eml"
    run.add(
        f,
        REJ,
        ("subject-title", "attachment-type", "clock-skew"),
        "title differs, PDF attached, PC clock 2 hours slow",
        thunderbird(
            f,
            WU,
            "【海珠区】海珠湿地候鸟情况",
            item(
                "hz-birds",
                labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D)),
                title="海珠湿地迎来越冬候鸟迁徙高峰",
            ),
            env(),
            atts=(WETLAND_PDF,),
            skew=dt.timedelta(hours=-2),
        ),
    )


def _daily_ignored(run: Run, env: Callable[..., Env]) -> None:
    f = "outlook-out-of-office.eml"
    run.add(
        f,
        IGN,
        ("auto-reply",),
        "Exchange out-of-office reply (Auto-Submitted: auto-replied)",
        auto_reply(
            f,
            HUANG,
            "自动答复: 关于做好2026年第四季度信息报送工作的通知",
            "您好！我于11月26日至28日外出学习，期间不能及时回复邮件，急事请致电020-83123400。\n黄丽华\n",
            env(),
            ("Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All"),
        ),
    )
    f = "mailer-daemon-dsn.eml"
    run.add(
        f,
        IGN,
        ("auto-reply",),
        "DSN bounce: MAILER-DAEMON, empty Return-Path, multipart/report",
        dsn(f, env()),
    )
    f = "list-id-newsletter.eml"
    lister = Sender(
        "zwxx@lists.gd.gov.cn", "广东省政府办公厅信息处", "lists.gd.gov.cn", "113.108.163.4", "", ""
    )
    run.add(
        f,
        IGN,
        ("auto-reply",),
        "provincial mailing list (List-Id, Precedence: list), sender not registered",
        foxmail(
            f,
            lister,
            "【通知】关于做好年底政务信息报送工作的通知",
            "各地级以上市政府办公室：\n\n请做好年底政务信息报送工作。\n\n广东省人民政府办公厅信息处\n",
            env(),
            extra=(
                "List-Id: <zwxx.lists.gd.gov.cn>",
                "Precedence: list",
                "List-Unsubscribe: <mailto:zwxx-leave@lists.gd.gov.cn>",
            ),
        ),
    )
    f = "own-notice-looped-back.eml"
    ours = Sender(DAILY, "广州市政府办公厅新闻信息处", "mail.th.gz.gov.cn", "59.41.12.34", "", "")
    run.add(
        f,
        IGN,
        ("auto-reply",),
        "our own rejection notice forwarded back by a unit's mailbox rule "
        "(X-Loop: mailgate, Auto-Submitted stripped by the forwarder)",
        thunderbird(
            f,
            ours,
            "退稿通知：【天河区】天河区二次供水改造",
            "陈晓明同志：\n\n您报送的信息未能受理，原因如下：\n1. 落款缺少联系电话。\n",
            env(),
            extra=("X-Loop: mailgate", "In-Reply-To: <2026112609123800573912@th.gz.gov.cn>"),
        ),
    )
    f = "qq-auto-reply-precedence-bulk.eml"
    run.add(
        f,
        IGN,
        ("auto-reply",),
        "QQ Mail vacation reply marked Precedence: bulk",
        qqmail(
            f,
            ZHENG,
            "自动回复：【市统计局】前十个月我市社会消费品零售总额增长4.2%",
            "这是来自QQ邮箱的假期自动回复邮件。\n您好，我最近正在休假中，无法亲自回复您的邮件。\n",
            env(),
            extra=("Precedence: bulk",),
        ),
    )
    evil = _with(CHEN, host="mail.qy-trade.com.cn", ip="103.27.4.9", pc="WIN-7Q2K", lan="192.168.1.4")
    f = "foxmail-spoofed-dmarc-fail.eml"
    run.add(
        f,
        IGN,
        ("spoofed-sender",),
        "trusted mx.gz.gov.cn: SPF and DMARC fail for th.gz.gov.cn",
        foxmail(
            f,
            evil,
            "【天河区】" + T("th-spoof"),
            item("th-spoof", labelled("天河区人民政府办公室", "陈晓明", "020-38622123", cn(D))),
            env(
                auth=f"{MX};\n\tspf=fail smtp.mailfrom=th.gz.gov.cn;\n\tdkim=none (no signature);\n\t"
                "dmarc=fail (p=REJECT) header.from=th.gz.gov.cn"
            ),
        ),
    )
    evil = _with(LIU, host="smtp.gaj-mail.top", ip="45.144.3.71")
    f = "outlook-spoofed-dkim-fail.eml"
    run.add(
        f,
        IGN,
        ("spoofed-sender",),
        "trusted mx.gz.gov.cn: DKIM fails for gaj.gz.gov.cn",
        outlook(
            f,
            evil,
            "【市公安局】" + T("gaj-new2"),
            item("gaj-new2", labelled("市公安局", "刘伟", "020-83118110", cn(D))),
            env(
                auth=f'{MX};\n\tdkim=fail reason="signature verification failed" header.d=gaj.gz.gov.cn;\n\t'
                "spf=softfail smtp.mailfrom=gaj.gz.gov.cn;\n\tdmarc=fail (p=QUARANTINE) header.from=gaj.gz.gov.cn"
            ),
        ),
    )
    # duplicates
    f = "outlook-delivered-once.eml"
    first = outlook(
        f,
        HUANG,
        "【越秀区】" + T("yx-new4"),
        item("yx-new4", labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D))),
        env(),
    )
    run.add(f, ACC, (), "first delivery", first)
    later = clock_after(first, 3)
    again = (
        f"Received: from smtp.yx.gz.gov.cn (smtp.yx.gz.gov.cn [183.6.101.18])\r\n\tby {MX} (Postfix) with ESMTPS "
        f"id 4R2B7Q0XK9Z\r\n\tfor <{DAILY}>; {later} (CST)\r\n"
    ).encode()
    return_path, delivered, rest = first.split(b"\r\n", 2)
    run.add(
        "outlook-delivered-again.eml",
        IGN,
        ("duplicate",),
        "the sending server retried: same Message-ID, one more Received line",
        b"\r\n".join((return_path, delivered, again + rest)),
    )
    body = item("th-dup", labelled("天河区人民政府办公室", "陈晓明", "020-38622123", cn(D))).encode("gbk")
    f = "oa-no-message-id.eml"
    raw = oa_system(
        f, CHEN, f"Subject: {ew('【天河区】' + T('th-dup'), 'gb2312')}", body, env(), message_id=False
    )
    run.add(f, ACC, (), "OA system sends no Message-ID", raw)
    run.add(
        "oa-no-message-id-copy.eml",
        IGN,
        ("duplicate",),
        "the same bytes again: duplicate by content hash",
        raw,
    )


def clock_after(raw: bytes, minutes: int) -> str:
    """The date of ``raw``'s topmost Received line plus ``minutes``, in RFC 5322 form."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    stamp = head.split("Received:", 1)[1].split(";", 1)[1].split("(CST)", 1)[0].strip()
    when = email.utils.parsedate_to_datetime(stamp) + dt.timedelta(minutes=minutes)
    return rfc_date(when)


def revisions() -> Run:
    run = Run("revisions", "daily", None)
    clock = Clock(dt.datetime(2026, 11, 26, 9, 0, 0, tzinfo=CST))
    th, title = "天河区人民政府办公室", T("th-fire-revised")
    body = item("th-fire-revised", labelled(th, "陈晓明", "020-38622123", cn(D)))
    f = "rev-foxmail-original.eml"
    run.add(f, ACC, (), "the original item", foxmail(f, CHEN, "【天河区】" + title, body, Env(clock.next())))
    f = "rev-big5-revision-traditional.eml"
    run.add(
        f,
        ACC,
        (),
        "【修改稿】 by a colleague in Traditional script: same unit, same title after folding",
        outlook(
            f,
            ZHANG,
            "【天河區】【修改稿】" + hk(title),
            hk(
                item(
                    "th-fire-revised",
                    labelled("天河區人民政府辦公室", "張穎", "020-38622456", cn(D)),
                    main=ITEMS["th-fire-revised"][1] + "目前整改完成率达到91%。",
                )
            ),
            Env(clock.next()),
            label="big5",
        ),
    )
    f = "rev-foxmail-resent-unmarked.eml"
    run.add(
        f,
        REJ,
        ("revision-unmarked",),
        "same title again from 天河区 without 【修改稿】 (回复： prefix is not a mark)",
        foxmail(f, CHEN, "回复：【天河区】" + title, body, Env(clock.next())),
    )
    f = "rev-foxmail-second-revision.eml"
    run.add(
        f,
        ACC,
        (),
        "a second 【修改稿】 of the same item",
        foxmail(f, CHEN, "【修改稿】【天河区】" + title, body, Env(clock.next())),
    )
    f = "rev-outlook-orphan.eml"
    run.add(
        f,
        ACC,
        ("revision-orphan",),
        "【修改稿】 with nothing to revise: kept as a new item, with a warning",
        outlook(
            f,
            HUANG,
            "【越秀区】【修改稿】" + T("yx-revised-only"),
            item("yx-revised-only", labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D))),
            Env(clock.next()),
        ),
    )
    traffic = item("gaj-traffic", labelled("市公安局", "刘伟", "020-83118110", cn(D)))
    f = "rev-outlook-gaj-original.eml"
    run.add(
        f, ACC, (), "original", outlook(f, LIU, "【市公安局】" + T("gaj-traffic"), traffic, Env(clock.next()))
    )
    f = "rev-coremail-gaj-unmarked.eml"
    run.add(
        f,
        REJ,
        ("revision-unmarked",),
        "same unit and title from webmail, FW: prefix, no 【修改稿】",
        coremail_gov(
            f,
            LIU,
            f"Subject: {ew('FW: 【市公安局】' + T('gaj-traffic'), 'UTF-8')}",
            traffic,
            Env(clock.next()),
        ),
    )
    f = "rev-163-orphan-marker-first.eml"
    run.add(
        f,
        ACC,
        ("revision-orphan",),
        "［修改稿］ before ［番禺区］, full-width square brackets, no original",
        webmail_163(
            f,
            LIANG,
            "［修改稿］［番禺区］" + T("py-orphan"),
            item("py-orphan", labelled("番禺区府办", "梁嘉欣", "13926012345", cn(D))),
            Env(clock.next()),
        ),
    )
    f = "rev-thunderbird-rejected-first.eml"
    run.add(
        f,
        REJ,
        ("required-elements",),
        "rejected for a missing phone: a rejected message files no item",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-emergency"),
            item("hz-emergency", labelled("海珠区政府办", "吴国栋", None, cn(D))),
            Env(clock.next()),
        ),
    )
    f = "rev-thunderbird-corrected-resend.eml"
    run.add(
        f,
        ACC,
        (),
        "the corrected resend after the rejection notice needs no 【修改稿】",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-emergency"),
            item("hz-emergency", labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D))),
            Env(clock.next()),
        ),
    )
    return run


def commissioned() -> Run:
    run = Run("commissioned", "commissioned", None)
    clock = Clock(dt.datetime(2026, 11, 26, 14, 0, 0, tzinfo=CST))

    def env() -> Env:
        return Env(clock.next(), to=COMMISSIONED)

    f = "yg-outlook-code.eml"
    run.add(
        f,
        ACC,
        (),
        "【约稿:FGW-2026-11】 to the commissioned inbox",
        outlook(
            f,
            WANGYAN,
            "【市发展改革委】【约稿:FGW-2026-11】" + T("fgw-commission"),
            item("fgw-commission", labelled("市发展改革委", "王䶮", "020-83133456", cn(D))),
            env(),
            label="utf-8",
        ),
    )
    f = "yg-foxmail-fullwidth-colon-urgent.eml"
    run.add(
        f,
        ACC,
        (),
        "【约稿：TH-08】 (full-width colon) before the identifier, with 【紧急】",
        foxmail(
            f,
            CHEN,
            "【约稿：TH-08】【天河区】【紧急】" + T("th-metro"),
            item("th-metro", labelled("天河区人民政府办公室", "陈晓明", "020-38622123", cn(D))),
            env(),
        ),
    )
    f = "yg-163-square-brackets.eml"
    run.add(
        f,
        ACC,
        (),
        "[番禺区][约稿] in ASCII brackets, no code",
        webmail_163(
            f,
            LIANG,
            "[番禺区][约稿]" + T("py-canal"),
            item("py-canal", labelled("番禺区府办", "梁嘉欣", "13926012345", cn(D))),
            env(),
        ),
    )
    f = "yg-outlook-gaj.eml"
    run.add(
        f,
        ACC,
        (),
        "【约稿:GAJ-2026-09】",
        outlook(
            f,
            LIU,
            "【市公安局】【约稿:GAJ-2026-09】" + T("gaj-commission"),
            item("gaj-commission", labelled("市公安局", "刘伟", "020-83118110", cn(D))),
            env(),
        ),
    )
    f = "yg-thunderbird-daily-item.eml"
    run.add(
        f,
        REJ,
        ("wrong-inbox",),
        "an ordinary item sent to the commissioned inbox",
        thunderbird(
            f,
            WU,
            "【海珠区】" + T("hz-birds"),
            item("hz-birds", labelled("海珠区政府办", "吴国栋", "020-89012345", cn(D))),
            env(),
        ),
    )
    f = "yg-qq-daily-item.eml"
    run.add(
        f,
        REJ,
        ("wrong-inbox",),
        "an ordinary item sent to the commissioned inbox",
        qqmail(
            f,
            ZHENG,
            "【市统计局】" + T("tjj-gdp"),
            item("tjj-gdp", labelled("市统计局", "郑晓玲", "13660012345", cn(D))),
            env(),
        ),
    )
    return run


def explicit_time() -> Run:
    run = Run("received-at-given", "daily", "2026-11-27T09:00:00+08:00")
    d = dt.date(2026, 11, 27)
    f = "at-foxmail-on-time.eml"
    run.add(
        f,
        ACC,
        (),
        "--received-at 09:00 given; Date 08:58",
        foxmail(
            f,
            CHEN,
            "【天河区】" + T("th-fire"),
            item("th-fire", labelled("天河区人民政府办公室", "陈晓明", "020-38622123", cn(d))),
            Env(dt.datetime(2026, 11, 27, 8, 58, 40, tzinfo=CST)),
        ),
    )
    f = "at-outlook-no-received-stale.eml"
    run.add(
        f,
        ACC,
        ("stale-date",),
        "no Received header; arrival from --received-at (27 Nov): Date 08:50 is within "
        "15 min, 落款 of 19 Nov is 8 days old",
        outlook(
            f,
            HUANG,
            "【越秀区】" + T("yx-temple"),
            item("yx-temple", labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", "2026年11月19日")),
            Env(dt.datetime(2026, 11, 27, 8, 50, 30, tzinfo=CST), received=False),
        ),
    )
    return run


OVERSIZE = {
    "outlook-oversize-video.eml": "outlook",
    "foxmail-oversize-zip.eml": "foxmail",
}


def oversize_message(name: str) -> bytes:
    """A ~27 MB message (a large video or zip attached), made at test time: too big to commit."""
    blob = random.Random(name).randbytes(20_500_000)
    at = dt.datetime(2026, 11, 26, 16, 0, 0, tzinfo=CST)
    if OVERSIZE[name] == "outlook":
        return outlook(
            name,
            HUANG,
            "【越秀区】" + T("yx-temple"),
            item("yx-temple", labelled("越秀区人民政府办公室", "黄丽华", "020-83123456", cn(D))),
            Env(at),
            atts=(Att("广府庙会宣传片.mp4", "video/mp4", blob),),
        )
    return foxmail(
        name,
        CHEN,
        "【天河区】" + T("th-fire"),
        item("th-fire", labelled("天河区人民政府办公室", "陈晓明", "020-38622123", cn(D))),
        Env(at),
        atts=(Att("现场照片.zip", "application/x-zip-compressed", blob),),
    )


def oversize() -> Run:
    run = Run("oversize", "daily", None)
    for name, client in OVERSIZE.items():
        run.add(
            name,
            REJ,
            ("size-limit",),
            f"{client}, ~27 MB: over the default 25 MB (generated at test time; "
            "only size-limit, the body is not examined)",
            None,
        )
    return run


def runs() -> list[Run]:
    return [daily_main(), revisions(), commissioned(), explicit_time(), oversize()]


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def manifest(all_runs: list[Run]) -> str:
    out = [
        "# Generated by build.py: the verdict SPEC.md implies for every corpus message (see README.md).",
        "",
    ]
    for r in all_runs:
        out += [
            "[[runs]]",
            f"name = {_toml_str(r.name)}",
            f"inbox = {_toml_str(r.inbox)}",
            'config = "mailgate.toml"',
        ]
        if r.received_at:
            out.append(f"received_at = {_toml_str(r.received_at)}")
        out.append("")
        for c in r.cases:
            out += [
                "[[runs.messages]]",
                f"file = {_toml_str(c.file)}",
                f"verdict = {_toml_str(c.verdict)}",
                "rules = [" + ", ".join(_toml_str(x) for x in c.rules) + "]",
                f"note = {_toml_str(c.note)}",
            ]
            if c.raw is None:
                out.append("generated = true")
            out.append("")
    return "\n".join(out)


def main() -> None:
    all_runs = runs()
    for old in MESSAGES.glob("*.eml"):
        old.unlink()
    MESSAGES.mkdir(exist_ok=True)
    names: set[str] = set()
    for r in all_runs:
        for c in r.cases:
            assert c.file not in names, c.file
            names.add(c.file)
            if c.raw is not None:
                assert len(c.raw) < 1_000_000, c.file
                (MESSAGES / c.file).write_bytes(c.raw)
    (HERE / "manifest.toml").write_text(manifest(all_runs), encoding="utf-8")
    print(f"{len(names)} messages in {len(all_runs)} runs")


if __name__ == "__main__":
    main()
