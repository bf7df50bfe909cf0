"""The guided demo's headings, explanations and table labels, as (English, Chinese) by key.

Part of the one message table (``messages.MESSAGES``); the demo's views of answers use ``messages_views``.
"""

from __future__ import annotations

from collections.abc import Mapping

DEMO_TEXTS: Mapping[str, tuple[str, str]] = {
    "region_110000": ("Beijing", "北京"),
    "region_310000": ("Shanghai", "上海"),
    "region_440000": ("Guangdong", "广东"),
    "creating": ("Creating a federation of {count} regions in {root}", "在 {root} 创建由 {count} 个地区组成的联盟"),
    "created": (
        "federation authority key, CA, signed catalog, node and client certificates: done",
        "联盟权威密钥、CA、签名目录、节点与客户端证书：已完成",
    ),
    "mtls_port": ("mTLS port", "mTLS 端口"),
    "public_port": ("public port", "公开端口"),
    "seeding": ("Recording {count} synthetic records in each region", "在每个地区登记 {count} 条合成记录"),
    "step_1": (
        "1. A Beijing agency records an administrative penalty on a legally effective document",
        "1. 北京的行政机关依据生效法律文书登记一条行政处罚",
    ),
    "explain_1": (
        "Beijing also holds a loan default about {company}; Shanghai recorded tax arrears and Guangdong a credit "
        "commitment. Each record was signed at submission by its region's node: the statement carries a salted "
        "digest per field, never a value.",
        "北京还登记了{company}的一条贷款逾期记录；上海登记了欠税信息，广东登记了信用承诺。每条记录在提交时由所在地区的"
        "节点签名：签名声明中每个字段只含加盐摘要，不含字段值。",
    ),
    "step_1b": (
        "1b. A Guangdong court lists the company as a dishonest judgment debtor: shared nationwide",
        "1b. 广东的人民法院将该公司纳入失信被执行人名单：全国共享",
    ),
    "holds_court_record": ("holds the court's record", "已收到法院的记录"),
    "queued_outbox": ("not yet (queued in the outbox)", "尚未（在发件队列中）"),
    "explain_1b": (
        "The catalog marks dishonest judgment debtors as shared nationwide: Guangdong queued the record for every "
        "peer in the transaction that stored it, and each peer verified Guangdong's signature, stored it and "
        "returned a signed receipt, which Guangdong logged.",
        "目录将失信被执行人信息标为全国共享：广东在保存该记录的同一事务中为每个对端排队发送，每个对端校验广东的签名、"
        "保存记录并返回签名回执，由广东记入日志。",
    ),
    "step_2": (
        "2. A bank asks Beijing for loan underwriting across all regions, with the company's signed consent",
        "2. 银行凭公司签名的授权书，向北京节点跨全部地区查询，用于贷款审批",
    ),
    "explain_2": (
        "The company signed the consent with its certificate's key: the bank, this purpose, a year, and the "
        "digest of the written authorisation form. Every region verified it itself before answering, and "
        "each logged which consent it accepted (its id), never the form.",
        "公司用其证书密钥签署了授权：授权给该银行、限于此用途、有效一年，并包含书面授权书的摘要。每个地区在答复前"
        "各自校验授权，并在日志中记录所接受授权的编号，从不记录授权书本身。",
    ),
    "step_3": (
        "3. The same bank asks without the company's consent, then with only a text reference",
        "3. 同一银行在没有公司授权、随后仅凭文字编号的情况下查询",
    ),
    "step_4": (
        "4. A utility asks the same node for a connection decision",
        "4. 公用事业单位向同一节点查询，用于接入决定",
    ),
    "explain_4": (
        "Fewer records and fewer fields: the loan default is 'authorised' information that a utility "
        "connection never reaches, and the penalty shows only what the catalog deems necessary.",
        "记录和字段都更少：贷款逾期属于“授权”范围的信息，公用事业接入查询无法获取；行政处罚也只显示目录认为必要的字段。",
    ),
    "step_5": ("5. {person} reads their own records (self inquiry)", "5. {person} 查询本人的记录（本人查询）"),
    "step_6": ("6. {person} asks who looked at them", "6. {person} 查询谁查询过自己"),
    "step_7": (
        "7. A compliance officer proves the bank's inquiry is in the log, offline",
        "7. 合规官离线证明银行的查询已记入日志",
    ),
    "leaf": (
        "inquiry {inquiry} is leaf {index} of the log {origin}, size {size}",
        "查询 {inquiry} 是日志 {origin}（大小 {size}）的第 {index} 个叶子",
    ),
    "proof_checked": (
        "verified with only the signed checkpoint and the node's public key; {witnesses} peer(s) checked that "
        "this checkpoint extends the last one they cosigned, and added their cosignature below it:\n",
        "仅凭签名检查点和节点公钥即完成校验；{witnesses} 个对端确认此检查点延续了其上次联署的检查点，并在下方附上了"
        "联署签名：\n",
    ),
    "step_8": (
        "8. The company performs the judgment and applies for repair in Guangdong; the court approves",
        "8. 公司履行判决并在广东申请信用修复；法院批准",
    ),
    "stopped_disclosing": ("stopped disclosing the debtor record", "已停止披露该失信记录"),
    "revocation_queued": ("not yet (revocation queued)", "尚未（撤销在队列中）"),
    "explain_8": (
        "In one transaction Guangdong marked the record repaired and queued its signed revocation for every peer; "
        "each peer stopped disclosing its copy and acknowledged. The bank received the record in step 2, so "
        "Beijing's ledger of disclosures puts the revocation in the bank's feed: its systems can delete the copy.",
        "广东在同一事务中将记录标为已修复，并为每个对端排队发送签名撤销；各对端停止披露其副本并确认。银行在第 2 步收到"
        "过该记录，因此北京的披露台账将撤销放入银行的撤销信息流：银行系统可据此删除副本。",
    ),
    "step_9": ("9. What each node logged", "9. 各节点记录了什么"),
    "log_events": ("log events", "日志事件"),
    "signed_checkpoint": ("signed checkpoint", "签名检查点"),
    "size": ("size {size}", "大小 {size}"),
    "examples_intro": (
        "The nodes keep running (Ctrl-C stops them). The bank asks every region about the company (paste as printed):",
        "节点保持运行（按 Ctrl-C 停止）。银行向所有地区查询该公司（按原样粘贴即可）：",
    ),
    "grpcurl_intro": (
        "Or with grpcurl (reflection v1 on every port):",
        "或用 grpcurl（各端口均提供 reflection v1）：",
    ),
    "grpcurl_consent": (
        "({consent} is the company's signed consent, {request} the request holding it; `share-gateway consent sign`"
        " makes others.)",
        "（{consent} 是公司签名的授权，{request} 是含该授权的请求；`share-gateway consent sign` 可生成其他授权。）",
    ),
    "mtls_ports": ("mTLS ports: {ports}", "mTLS 端口：{ports}"),
    "pids": (
        "Each region is a share-gateway serve process of its own; stop one (kill PID) and the others keep serving:",
        "每个地区各是一个独立的 share-gateway serve 进程；停止其中一个（kill PID），其余地区照常服务：",
    ),
}
