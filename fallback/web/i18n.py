"""The console's strings: Chinese (default) and English, one small dict per language."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

DEFAULT_LANG = "zh-CN"

ZH: dict[str, str] = {
    "brand_sub": "审核台", "lang_name_zh-CN": "中文", "lang_name_en": "English",
    "nav_queue": "待审队列", "nav_answers": "答案库", "nav_audit": "审计记录", "nav_dashboard": "数据看板",
    "nav_mining": "意图挖掘", "nav_users": "用户管理",
    "role_reviewer": "审核员", "role_admin": "管理员", "role": "角色",
    "logout": "退出", "login": "登录", "login_title": "登录", "username": "用户名", "password": "密码",
    "login_tagline": "客服兜底答案审核台", "login_failed": "用户名或密码错误",
    "footer_tz": "时间均为北京时间（UTC+8）。Backstop 审核台",
    "ago_now": "刚刚", "ago_m": "{n} 分钟前", "ago_h": "{n} 小时前", "ago_d": "{n} 天前",
    "dur_s": "{n} 秒", "dur_m": "{n} 分钟", "dur_h": "{n} 小时", "dur_d": "{n} 天",
    # queue
    "queue_intro": "顾客问到、但答案库还答不了的问题。批准后，相同和相近的问题会立即自动回答。",
    "count_pending": "待审核", "count_pending_risk": "其中风险问题", "count_approved": "已批准",
    "count_rejected": "已拒绝",
    "f_status": "状态", "f_risk": "风险", "f_search": "搜索", "f_search_ph": "问题、草稿或顾客原话",
    "f_min_count": "最少次数", "f_sort": "排序", "filter": "筛选", "search": "搜索",
    "status_pending": "待审核", "status_approved": "已批准", "status_rejected": "已拒绝", "status_all": "全部",
    "status_active": "生效中", "status_retired": "已下线", "status_missing": "已删除",
    "risk_filter_any": "全部", "risk_filter_yes": "仅风险问题", "risk_filter_no": "无风险",
    "sort_frequency": "按频次", "sort_age": "按等待时间", "sort_recent": "按最近出现",
    "shortcuts": "快捷键", "k_move": "上下移动", "k_open": "打开", "k_approve": "批准", "k_edit": "编辑",
    "k_reject": "拒绝",
    "col_question": "问题", "col_count": "次数", "col_flags": "标记", "col_draft": "草稿",
    "col_first_seen": "首次出现", "col_last_seen": "最近出现", "col_query": "顾客问法", "col_similarity": "相似度",
    "col_hits": "命中次数", "col_validity": "有效期", "col_when": "时间", "col_actor": "操作人",
    "col_action": "操作", "col_entity": "对象", "col_changes": "变更", "col_created": "创建时间",
    "col_approved_at": "批准时间", "col_first_served": "首次自动回答", "col_started": "开始",
    "col_finished": "结束", "col_source": "数据来源", "col_intents": "意图数", "col_noise": "噪声占比",
    "col_embedder": "向量模型",
    "n_variants": "{n} 种问法", "open": "打开", "total_n": "共 {n} 条", "prev": "上一页", "next": "下一页",
    "queue_empty": "没有符合条件的问题。🎉", "risk_badge": "风险", "risk_topic": "风险话题：需人工确认",
    "draft_queued": "排队生成中", "draft_drafted": "已生成", "draft_none": "无草稿", "draft_failed": "生成失败",
    "issue_banned_terms": "含违禁词", "issue_risk_terms": "含风险词", "issue_unsupported_numbers": "数字无依据",
    "issue_empty": "草稿为空", "issue_too_long": "草稿过长",
    "quick_approve_title": "按草稿批准？", "quick_approve_help": "批准后立即对顾客生效。按 Enter 确认，Esc 取消。",
    "cancel": "取消", "approve": "批准", "reject": "拒绝",
    "reject_title": "拒绝此问题", "reject_reason": "拒绝原因（必填）", "reject_reason_ph": "例如：与店铺无关",
    "reason_offtopic": "与店铺无关", "reason_needs_human": "需人工逐单处理", "reason_duplicate": "与已有答案重复",
    "reason_policy": "涉及政策，不宜自动回答",
    # candidate
    "candidate": "问题", "asked_n": "被问 {n} 次",
    "stale_title": "这个问题已被更新，未保存。",
    "stale_body": "它现在是“{status}”（版本 {version}），可能已有同事处理。你的修改保留在下方，请核对后再提交。",
    "already_approved": "此问题已批准。", "already_rejected": "此问题已拒绝：",
    "examples_title": "顾客问法", "examples_help": "勾选的问法会作为检索键：以后顾客这样问，就直接用这条答案回答。",
    "select_all": "全选", "canonical_question": "标准问题", "answer_text": "答案",
    "answer_text_ph": "输入要发给顾客的答案", "no_draft_help": "暂无草稿，请参考右侧相似答案撰写",
    "chars": "字", "safe_to_autosend": "风险话题也可自动发送",
    "safe_to_autosend_help": "默认风险话题（退款、投诉、赔偿等）即使命中也转人工；勾选后允许直接发送此答案。",
    "valid_from": "生效时间", "valid_until": "失效时间", "validity_help": "留空表示长期有效（北京时间）。",
    "approve_draft": "按草稿批准", "approve_edited": "保存修改并批准",
    "checks_title": "风险与依据检查", "checks_clean": "草稿未发现问题", "checks_none": "暂无草稿检查结果",
    "score_grounding": "依据相似度", "score_chars": "字数", "generator": "生成模型",
    "references_title": "相似的已有答案", "score": "相似度", "use_text": "用这段作为答案",
    "no_references": "答案库中没有相似答案。", "history_title": "对话上下文",
    "role_turn_user": "顾客", "role_turn_assistant": "机器人",
    # answers
    "answers_intro": "已批准的答案。修改、下线立即生效。", "f_answers_ph": "搜索问题或答案内容",
    "answers_empty": "没有符合条件的答案。", "n_keys": "{n} 个检索键", "always": "长期", "autosend_badge": "风险可发",
    "edit": "编辑", "answer": "答案", "hits_n": "已自动回答 {n} 次", "created_by": "由 {who} 创建",
    "keys_title": "检索键", "keys_help": "顾客的这些问法会命中此答案。勾选要移除的问法。", "canonical": "标准问题",
    "remove": "移除", "add_keys": "新增问法（每行一个）", "add_keys_ph": "例如：能开专票吗", "save": "保存",
    "retire": "下线", "retire_help": "下线后不再自动回答，可随时恢复。", "retire_confirm": "确定下线这条答案？",
    "activate": "重新上线", "activate_help": "此答案已下线，不会自动回答。",
    # audit
    "audit_intro": "谁在什么时候做了什么，以及改动前后的内容。", "audit_empty": "暂无记录。", "any": "全部",
    "entity_any": "全部", "entity_candidate": "问题", "entity_answer": "答案", "entity_user": "用户",
    "audit_approve": "批准", "audit_approve_edited": "修改后批准", "audit_reject": "拒绝", "audit_assign": "指派",
    "audit_create": "创建", "audit_edit": "修改", "audit_retire": "下线", "audit_issue_token": "签发令牌",
    "field_status": "状态", "field_query": "问题", "field_question": "标准问题", "field_text": "答案",
    "field_draft": "草稿", "field_answer_id": "答案编号", "field_reject_reason": "拒绝原因",
    "field_assignee": "负责人", "field_safe_to_autosend": "风险可发", "field_valid_from": "生效时间",
    "field_valid_until": "失效时间", "field_keys": "检索键", "field_hit_count": "命中次数",
    "field_occurrences": "次数", "field_username": "用户名", "field_role": "角色", "field_id": "编号",
    "field_examples": "问法", "field_risk": "风险", "field_label": "意图",
    # dashboard
    "dashboard_intro": "最近 {days} 天（北京时间）。", "last_n_days": "{n} 天",
    "kpi_coverage": "自动回答率", "kpi_calls": "共 {n} 次兜底调用", "kpi_served_after": "批准→首次自动回答",
    "kpi_waited": "等待审核时长", "kpi_median_last": "最近 {n} 次批准的中位数",
    "chart_coverage": "每日自动回答率", "chart_queue": "待审队列长度（每日结束时）",
    "chart_decisions": "兜底决策分布", "chart_review": "审核操作分布",
    "action_answer": "自动回答", "action_pending_review": "待审核", "action_handoff": "转人工",
    "action_blocked": "已拦截",
    "approvals_title": "最近的批准", "approvals_help": "从批准到第一次被顾客问到并自动回答所用的时间。",
    "approvals_empty": "还没有批准记录。", "not_served_yet": "尚未被问到",
    # mining
    "mining_intro": "从对话日志中挖掘的意图（由挖掘任务写入）。", "mining_empty": "还没有挖掘记录。",
    "run_running": "运行中", "run_succeeded": "成功", "run_failed": "失败",
    # users
    "users_intro": "审核员可以处理问题和答案；管理员还可以管理用户。", "add_user": "添加用户",
    "user_active": "启用", "user_inactive": "停用",
    # flashes and errors
    "flash_approved": "已批准 #{id}，答案已上线（{ms} ms）。", "flash_rejected": "已拒绝 #{id}。",
    "flash_saved": "答案 #{id} 已保存并生效（{ms} ms）。", "flash_retired": "答案 #{id} 已下线。",
    "flash_activated": "答案 #{id} 已重新上线。", "flash_user_added": "已添加用户 {id}。",
    "back_to_queue": "返回待审队列",
    "error_400_title": "无法完成操作", "error_403_title": "没有权限", "error_404_title": "找不到页面",
    "error_409_title": "内容已被更新", "error_422_title": "表单不完整", "error_405_title": "不支持的操作",
    "error_admin_only": "此页面仅管理员可以访问。", "error_csrf": "表单已过期，请刷新页面后重试。",
    "error_not_found": "要找的内容不存在或已被删除。", "error_stale": "内容已被他人修改，请刷新后重试。",
    "error_form": "请检查表单后重试。缺少或无效的字段：", "error_bad_request": "请求无法完成：",
    "error_generic": "请求无法完成。",
}

EN: dict[str, str] = {
    "brand_sub": "Review", "lang_name_zh-CN": "中文", "lang_name_en": "English",
    "nav_queue": "Queue", "nav_answers": "Answers", "nav_audit": "Audit", "nav_dashboard": "Dashboard",
    "nav_mining": "Mining", "nav_users": "Users",
    "role_reviewer": "Reviewer", "role_admin": "Admin", "role": "Role",
    "logout": "Log out", "login": "Log in", "login_title": "Log in", "username": "Username", "password": "Password",
    "login_tagline": "Fallback answer review", "login_failed": "Wrong username or password",
    "footer_tz": "Times are China Standard Time (UTC+8). Backstop review console",
    "ago_now": "just now", "ago_m": "{n} min ago", "ago_h": "{n} h ago", "ago_d": "{n} d ago",
    "dur_s": "{n} s", "dur_m": "{n} min", "dur_h": "{n} h", "dur_d": "{n} d",
    "queue_intro": "Questions customers asked that the answer library cannot answer yet. Once approved, the same "
                   "and similar questions are answered automatically at once.",
    "count_pending": "Pending", "count_pending_risk": "Pending, risk", "count_approved": "Approved",
    "count_rejected": "Rejected",
    "f_status": "Status", "f_risk": "Risk", "f_search": "Search", "f_search_ph": "Question, draft or customer wording",
    "f_min_count": "Min. count", "f_sort": "Sort", "filter": "Filter", "search": "Search",
    "status_pending": "Pending", "status_approved": "Approved", "status_rejected": "Rejected", "status_all": "All",
    "status_active": "Active", "status_retired": "Retired", "status_missing": "Deleted",
    "risk_filter_any": "All", "risk_filter_yes": "Risk only", "risk_filter_no": "No risk",
    "sort_frequency": "Most asked", "sort_age": "Waiting longest", "sort_recent": "Most recent",
    "shortcuts": "Shortcuts", "k_move": "move", "k_open": "open", "k_approve": "approve", "k_edit": "edit",
    "k_reject": "reject",
    "col_question": "Question", "col_count": "Asked", "col_flags": "Flags", "col_draft": "Draft",
    "col_first_seen": "First seen", "col_last_seen": "Last seen", "col_query": "Customer wording",
    "col_similarity": "Similarity", "col_hits": "Hits", "col_validity": "Valid", "col_when": "When",
    "col_actor": "Who", "col_action": "Action", "col_entity": "Entity", "col_changes": "Changes",
    "col_created": "Created", "col_approved_at": "Approved", "col_first_served": "First auto-answered",
    "col_started": "Started", "col_finished": "Finished", "col_source": "Source", "col_intents": "Intents",
    "col_noise": "Noise", "col_embedder": "Embedder",
    "n_variants": "{n} wordings", "open": "Open", "total_n": "{n} in total", "prev": "Previous", "next": "Next",
    "queue_empty": "Nothing matches. 🎉", "risk_badge": "Risk", "risk_topic": "Risk topic: needs a person",
    "draft_queued": "Drafting", "draft_drafted": "Drafted", "draft_none": "No draft", "draft_failed": "Draft failed",
    "issue_banned_terms": "Banned words", "issue_risk_terms": "Risk words",
    "issue_unsupported_numbers": "Unsupported numbers", "issue_empty": "Empty draft", "issue_too_long": "Too long",
    "quick_approve_title": "Approve as drafted?",
    "quick_approve_help": "Customers get it at once. Enter to confirm, Esc to cancel.",
    "cancel": "Cancel", "approve": "Approve", "reject": "Reject",
    "reject_title": "Reject this question", "reject_reason": "Reason (required)",
    "reject_reason_ph": "e.g. not about our shop",
    "reason_offtopic": "Not about our shop", "reason_needs_human": "Needs a person per order",
    "reason_duplicate": "Duplicates an existing answer", "reason_policy": "Policy matter, not for auto-answers",
    "candidate": "Question", "asked_n": "asked {n} times",
    "stale_title": "This question changed; nothing was saved.",
    "stale_body": "It is now “{status}” (version {version}); a colleague may have handled it. Your edit is kept "
                  "below: check it and submit again.",
    "already_approved": "This question is approved.", "already_rejected": "This question was rejected:",
    "examples_title": "Customer wordings",
    "examples_help": "Checked wordings become retrieval keys: when a customer asks like this, this answer is sent.",
    "select_all": "Select all", "canonical_question": "Canonical question", "answer_text": "Answer",
    "answer_text_ph": "The answer the customer will get", "no_draft_help": "no draft yet: see similar answers",
    "chars": "characters", "safe_to_autosend": "Safe to auto-send on risk topics",
    "safe_to_autosend_help": "Risk topics (refunds, complaints, compensation…) go to a person even when matched; "
                             "check to let this answer be sent directly.",
    "valid_from": "Valid from", "valid_until": "Valid until",
    "validity_help": "Leave empty for no limit (China time).",
    "approve_draft": "Approve as drafted", "approve_edited": "Save edit and approve",
    "checks_title": "Risk and grounding checks", "checks_clean": "No issues found in the draft",
    "checks_none": "No draft checks yet", "score_grounding": "Grounding", "score_chars": "Length",
    "generator": "Generator", "references_title": "Similar existing answers", "score": "Similarity",
    "use_text": "Use this text", "no_references": "No similar answers in the library.",
    "history_title": "Conversation", "role_turn_user": "Customer", "role_turn_assistant": "Bot",
    "answers_intro": "Approved answers. Edits and retirements take effect at once.",
    "f_answers_ph": "Search questions or answers", "answers_empty": "No answers match.", "n_keys": "{n} keys",
    "always": "always", "autosend_badge": "Risk-safe", "edit": "Edit", "answer": "Answer",
    "hits_n": "auto-answered {n} times", "created_by": "created by {who}",
    "keys_title": "Retrieval keys", "keys_help": "Customer wordings that hit this answer. Check those to remove.",
    "canonical": "Canonical", "remove": "remove", "add_keys": "Add wordings (one per line)",
    "add_keys_ph": "e.g. can I get a VAT invoice", "save": "Save",
    "retire": "Retire", "retire_help": "A retired answer is no longer sent; you can bring it back.",
    "retire_confirm": "Retire this answer?", "activate": "Reactivate",
    "activate_help": "This answer is retired and is not sent.",
    "audit_intro": "Who did what and when, with the content before and after.", "audit_empty": "No entries.",
    "any": "Any", "entity_any": "Any", "entity_candidate": "Question", "entity_answer": "Answer",
    "entity_user": "User",
    "audit_approve": "Approved", "audit_approve_edited": "Approved with edit", "audit_reject": "Rejected",
    "audit_assign": "Assigned", "audit_create": "Created", "audit_edit": "Edited", "audit_retire": "Retired",
    "audit_issue_token": "Issued token",
    "field_status": "Status", "field_query": "Question", "field_question": "Canonical question",
    "field_text": "Answer", "field_draft": "Draft", "field_answer_id": "Answer #",
    "field_reject_reason": "Reason", "field_assignee": "Assignee", "field_safe_to_autosend": "Risk-safe",
    "field_valid_from": "Valid from", "field_valid_until": "Valid until", "field_keys": "Keys",
    "field_hit_count": "Hits", "field_occurrences": "Asked", "field_username": "Username", "field_role": "Role",
    "field_id": "ID", "field_examples": "Wordings", "field_risk": "Risk", "field_label": "Intent",
    "dashboard_intro": "Last {days} days (China time).", "last_n_days": "{n} days",
    "kpi_coverage": "Automated coverage", "kpi_calls": "{n} fallback calls", "kpi_served_after": "Approved → served",
    "kpi_waited": "Waited for review", "kpi_median_last": "median of the last {n} approvals",
    "chart_coverage": "Share answered automatically, per day", "chart_queue": "Queue size (end of day)",
    "chart_decisions": "Fallback decisions", "chart_review": "Review actions",
    "action_answer": "Answered", "action_pending_review": "Pending review", "action_handoff": "Handed off",
    "action_blocked": "Blocked",
    "approvals_title": "Recent approvals",
    "approvals_help": "Time from approval until a customer asked again and got the answer automatically.",
    "approvals_empty": "No approvals yet.", "not_served_yet": "not asked since",
    "mining_intro": "Intents mined from the conversation log (written by mining runs).",
    "mining_empty": "No mining runs yet.", "run_running": "Running", "run_succeeded": "Succeeded",
    "run_failed": "Failed",
    "users_intro": "Reviewers handle questions and answers; admins also manage users.", "add_user": "Add user",
    "user_active": "active", "user_inactive": "inactive",
    "flash_approved": "Approved #{id}; the answer is live ({ms} ms).", "flash_rejected": "Rejected #{id}.",
    "flash_saved": "Answer #{id} saved and live ({ms} ms).", "flash_retired": "Answer #{id} retired.",
    "flash_activated": "Answer #{id} reactivated.", "flash_user_added": "User {id} added.",
    "back_to_queue": "Back to the queue",
    "error_400_title": "Could not do that", "error_403_title": "Not allowed", "error_404_title": "Not found",
    "error_409_title": "Changed meanwhile", "error_422_title": "Form incomplete", "error_405_title": "Not supported",
    "error_admin_only": "Only admins can open this page.",
    "error_csrf": "The form has expired: reload the page and try again.",
    "error_not_found": "What you are looking for does not exist or was deleted.",
    "error_stale": "Someone else changed this: reload and try again.",
    "error_form": "Check the form and try again. Missing or invalid:", "error_bad_request": "Could not do that:",
    "error_generic": "The request could not be completed.",
}

STRINGS: dict[str, dict[str, str]] = {"zh-CN": ZH, "en": EN}
LANGS: tuple[str, ...] = tuple(STRINGS)


class Translator:
    """``t("key", n=3)``: the string for ``key`` in one language, formatted; Chinese when missing."""

    def __init__(self, lang: str):
        self.lang = lang if lang in STRINGS else DEFAULT_LANG
        self._strings = STRINGS[self.lang]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._strings.get(key) or ZH.get(key) or key
        return text.format(**values) if values else text

    def maybe(self, key: str, fallback: str) -> str:
        """The string for ``key``, or ``fallback`` (e.g. a raw field name) when there is none."""
        return self._strings.get(key) or ZH.get(key) or fallback


@lru_cache(maxsize=len(STRINGS))
def translator(lang: str) -> Translator:
    return Translator(lang)
