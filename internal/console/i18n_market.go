package console

import "github.com/portico-gw/portico/internal/webpage"

// marketMessages are the catalogue's keys of the API market's pages
// (approvals, a service's market, plans and subscriptions tabs, a
// project's settings, a group's time zone and public URL) and of the
// market's permissions. init merges them into messages; a key another
// file defines is reported by TestMarketMessagesOverrideNothing.
var marketMessages = webpage.Catalogue{
	"nav.approvals": {"en": "Approvals", "zh-CN": "审批"}, "nav.settings": {"en": "Settings", "zh-CN": "设置"},
	"tab.market": {"en": "Market", "zh-CN": "API 市场"}, "tab.plans": {"en": "Plans", "zh-CN": "套餐"},
	"tab.subscriptions": {"en": "Subscriptions", "zh-CN": "订阅"},

	"appr.boxes": {"en": "Requests", "zh-CN": "申请"}, "appr.todo": {"en": "To review", "zh-CN": "待我审批"},
	"appr.mine": {"en": "Submitted by me", "zh-CN": "我提交的"}, "appr.default_pending": {"en": "Pending (default)", "zh-CN": "待审批（默认）"},
	"appr.any": {"en": "Any", "zh-CN": "全部"}, "appr.kind": {"en": "Kind", "zh-CN": "类型"},
	"appr.requester": {"en": "Requester", "zh-CN": "申请人"}, "appr.approver": {"en": "Approver role", "zh-CN": "审批角色"},
	"appr.open": {"en": "Open", "zh-CN": "查看"}, "appr.request": {"en": "request", "zh-CN": "申请单"},
	"appr.none_todo":   {"en": "Nothing waits for your review.", "zh-CN": "没有待您审批的申请。"},
	"appr.none_mine":   {"en": "You have submitted no request matching these filters.", "zh-CN": "没有符合条件的您提交的申请。"},
	"appr.application": {"en": "Application", "zh-CN": "应用"}, "appr.plan": {"en": "Plan", "zh-CN": "套餐"},
	"appr.comment": {"en": "Comment", "zh-CN": "备注"}, "appr.decision": {"en": "Decision", "zh-CN": "审批操作"},
	"appr.approve": {"en": "Approve", "zh-CN": "通过"}, "appr.reject": {"en": "Reject", "zh-CN": "驳回"},
	"appr.cancel": {"en": "Cancel request", "zh-CN": "撤销申请"}, "appr.history": {"en": "History", "zh-CN": "审批记录"},
	"appr.no_history": {"en": "No history yet.", "zh-CN": "暂无记录。"},

	"state.pending": {"en": "Pending", "zh-CN": "待审批"}, "state.approved": {"en": "Approved", "zh-CN": "已通过"},
	"state.rejected": {"en": "Rejected", "zh-CN": "已驳回"}, "state.cancelled": {"en": "Cancelled", "zh-CN": "已撤销"},
	"kind.listing": {"en": "Launch to catalog", "zh-CN": "上架申请"}, "kind.delisting": {"en": "Remove from catalog", "zh-CN": "下架申请"},
	"kind.subscription": {"en": "Subscription", "zh-CN": "订阅申请"},
	"hist.requested":    {"en": "requested", "zh-CN": "提交申请"}, "hist.approved": {"en": "approved", "zh-CN": "通过"},
	"hist.rejected": {"en": "rejected", "zh-CN": "驳回"}, "hist.cancelled": {"en": "cancelled", "zh-CN": "撤销"},

	"mkt.listing": {"en": "Catalog listing", "zh-CN": "API 市场上架"}, "mkt.listed": {"en": "Listed in the catalog", "zh-CN": "已上架"},
	"mkt.listed_version": {"en": "Listed version", "zh-CN": "上架版本"}, "mkt.auto_approve": {"en": "Auto-approve subscriptions", "zh-CN": "订阅自动审批"},
	"mkt.listed_at": {"en": "Listed", "zh-CN": "上架时间"}, "mkt.change_auto": {"en": "Change auto-approve", "zh-CN": "修改自动审批"},
	"mkt.auto_approve_help": {"en": "Approve subscriptions without review", "zh-CN": "订阅无需审批，自动通过"},
	"mkt.delist":            {"en": "Remove from catalog", "zh-CN": "从 API 市场下架"},
	"mkt.delist_confirm":    {"en": "Ask to remove this service from the catalog? Existing subscriptions stay until the request is approved.", "zh-CN": "申请将该服务从 API 市场下架？申请通过前现有订阅不受影响。"},
	"mkt.delist_request":    {"en": "Request removal", "zh-CN": "提交下架申请"},
	"mkt.not_listed":        {"en": "Not in the catalog: launch it so that developers can find it and subscribe.", "zh-CN": "未上架：上架后开发者才能在 API 市场找到并订阅。"},
	"mkt.launch":            {"en": "Launch to catalog", "zh-CN": "上架到 API 市场"}, "mkt.production_version": {"en": "The version running in production", "zh-CN": "生产环境运行的版本"},
	"mkt.launch_help":    {"en": "The request goes to the project's listing approver; it is approved at once if that is you.", "zh-CN": "申请将提交给项目的上架审批人；如果审批人是您，将立即通过。"},
	"mkt.relist":         {"en": "List another version", "zh-CN": "更换上架版本"},
	"mkt.launch_request": {"en": "Request launch", "zh-CN": "提交上架申请"},
	"mkt.pending":        {"en": "Pending requests", "zh-CN": "待处理的申请"}, "mkt.no_pending": {"en": "No pending request about this service.", "zh-CN": "该服务没有待处理的申请。"},

	"plan.help":   {"en": "A subscription picks one of the service's plans; its quotas limit the subscription's calls.", "zh-CN": "订阅时选择服务的一个套餐，套餐配额限制该订阅的调用次数。"},
	"plan.quotas": {"en": "Quotas", "zh-CN": "配额"}, "plan.none": {"en": "No plans: subscriptions are limited only by the service's own plugins.", "zh-CN": "没有套餐：订阅仅受服务自身插件的限制。"},
	"plan.new": {"en": "New plan", "zh-CN": "新建套餐"}, "plan.count": {"en": "Calls", "zh-CN": "调用次数"}, "plan.period": {"en": "Period", "zh-CN": "周期"},
	"plan.quota_help": {"en": "At most one quota per period; leave the calls empty for none. Days and months count in the gateway group's time zone.", "zh-CN": "每个周期最多一个配额；次数留空表示不限。按天和按月的配额以网关组的时区计算。"},
	"plan.unlimited":  {"en": "unlimited", "zh-CN": "不限"},
	"period.second":   {"en": "second", "zh-CN": "秒"}, "period.minute": {"en": "minute", "zh-CN": "分钟"}, "period.hour": {"en": "hour", "zh-CN": "小时"},
	"period.day": {"en": "day", "zh-CN": "天"}, "period.month": {"en": "month", "zh-CN": "月"},

	"sub.usage": {"en": "Usage", "zh-CN": "用量"}, "sub.none": {"en": "No subscriptions yet.", "zh-CN": "还没有订阅。"},
	"sub.limit": {"en": "Limit", "zh-CN": "上限"}, "sub.used": {"en": "Used", "zh-CN": "已用"}, "sub.remaining": {"en": "Remaining", "zh-CN": "剩余"},
	"sub.resets": {"en": "Resets", "zh-CN": "重置时间"}, "sub.no_usage": {"en": "The subscription's plan has no quotas to count.", "zh-CN": "该订阅的套餐没有需要计数的配额。"},
	"sub.uncounted": {"en": "No gateway counts for this group yet (stand-alone gateways report through a shared Redis).", "zh-CN": "该网关组尚无网关计数（独立网关通过共享 Redis 上报）。"},
	"sub.not_here":  {"en": "That subscription is not to this service.", "zh-CN": "该订阅不属于此服务。"},

	"set.approver":           {"en": "Listing approver", "zh-CN": "上架审批人"},
	"set.approver_help":      {"en": "Who approves launching this project's services into the catalog and removing them.", "zh-CN": "审批本项目服务上架和下架 API 市场的角色。"},
	"set.approver_now":       {"en": "Now:", "zh-CN": "当前："},
	"set.approver_super":     {"en": "Only a super admin changes who approves listings.", "zh-CN": "只有超级管理员可以修改上架审批人。"},
	"approver.project_admin": {"en": "a project admin", "zh-CN": "项目管理员"}, "approver.super_admin": {"en": "a super admin", "zh-CN": "超级管理员"},
	"set.webhook":      {"en": "Webhook", "zh-CN": "Webhook"},
	"set.webhook_help": {"en": "Approval events of the project are posted to this URL, signed with the secret (HMAC-SHA256).", "zh-CN": "项目的审批事件将发送到该 URL，并用密钥签名（HMAC-SHA256）。"},
	"set.secret_once":  {"en": "Copy the secret now: it is shown only this once.", "zh-CN": "请立即复制密钥：它只显示这一次。"},
	"set.secret_set":   {"en": "A secret is set", "zh-CN": "已设置密钥"}, "set.no_secret": {"en": "No secret", "zh-CN": "未设置密钥"},
	"set.secret": {"en": "Secret (write-only)", "zh-CN": "密钥（只写）"}, "set.secret_generate": {"en": "leave empty to keep the secret held", "zh-CN": "留空则保留现有密钥"},
	"set.secret_replaced": {"en": "A secret typed replaces the one held; without one, a secret is generated (and shown once) only when none is set.", "zh-CN": "填写的密钥会替换现有密钥；留空时仅在尚无密钥时自动生成一个（只显示一次）。"},
	"set.webhook_edit":    {"en": "Set the webhook", "zh-CN": "设置 Webhook"}, "set.no_webhook": {"en": "none", "zh-CN": "未设置"},
	"set.webhook_delete": {"en": "Remove the webhook", "zh-CN": "删除 Webhook"},
	"set.deliveries":     {"en": "Deliveries", "zh-CN": "投递记录"}, "set.event": {"en": "Event", "zh-CN": "事件"},
	"set.attempts": {"en": "Attempts", "zh-CN": "尝试次数"}, "set.last_error": {"en": "Last error", "zh-CN": "最近错误"},
	"set.delivered": {"en": "Delivered", "zh-CN": "送达时间"}, "set.next": {"en": "Next attempt", "zh-CN": "下次尝试"},
	"set.no_deliveries": {"en": "No deliveries yet.", "zh-CN": "暂无投递记录。"},

	"grp.time_zone": {"en": "Time zone", "zh-CN": "时区"}, "grp.public_url": {"en": "Public URL", "zh-CN": "公网地址"},
	"grp.edit_market":         {"en": "Change time zone and public URL", "zh-CN": "修改时区和公网地址"},
	"grp.trace_ratio":         {"en": "Trace sampling", "zh-CN": "链路追踪采样率"},
	"grp.trace_ratio_default": {"en": "each gateway's --trace-sample-ratio", "zh-CN": "各网关的 --trace-sample-ratio"},
	"grp.edit_tracing":        {"en": "Change trace sampling", "zh-CN": "修改追踪采样率"},
	"grp.tracing_help": {"en": "The share of new traces (requests without a sampled traceparent) the group's gateways export, 0 to 1, e.g. 0.01 for one in a hundred; empty: each gateway's --trace-sample-ratio. Takes effect with the group's next revision, made at once.",
		"zh-CN": "本组网关导出的新链路（未携带已采样 traceparent 的请求）比例，0 到 1，如 0.01 表示百分之一；留空则使用各网关的 --trace-sample-ratio。保存后立即生成本组的新版本并生效。"},
	"grp.market_help": {"en": "Daily and monthly quotas count in the time zone (IANA, e.g. Asia/Shanghai; empty: UTC); the catalog shows clients URLs on the public URL.", "zh-CN": "按天和按月的配额以该时区计算（IANA 名称，如 Asia/Shanghai；留空为 UTC）；API 市场向调用方展示基于公网地址的 URL。"},

	"flash.approval_approve": {"en": "Approved.", "zh-CN": "已通过。"}, "flash.approval_reject": {"en": "Rejected.", "zh-CN": "已驳回。"},
	"flash.approval_cancel":     {"en": "Request cancelled.", "zh-CN": "申请已撤销。"},
	"flash.listing_requested":   {"en": "Launch requested: it waits for the approver.", "zh-CN": "上架申请已提交，等待审批。"},
	"flash.listing_done":        {"en": "Listed in the catalog.", "zh-CN": "已上架到 API 市场。"},
	"flash.delisting_requested": {"en": "Removal requested: it waits for the approver.", "zh-CN": "下架申请已提交，等待审批。"},
	"flash.delisting_done":      {"en": "Removed from the catalog.", "zh-CN": "已从 API 市场下架。"},

	"perm.approval:own":      {"en": "your own requests, and deciding those your roles allow", "zh-CN": "自己的申请，以及您的角色可审批的申请"},
	"perm.market:manage":     {"en": "choose who approves a project's listings", "zh-CN": "设置项目的上架审批人"},
	"perm.listing:request":   {"en": "ask to launch services into the catalog or remove them", "zh-CN": "申请服务上架或下架 API 市场"},
	"perm.approval:review":   {"en": "approve or reject the project's requests and set auto-approve", "zh-CN": "审批项目的申请并设置自动审批"},
	"perm.subscription:read": {"en": "see who subscribes to the project's services, and their usage", "zh-CN": "查看项目服务的订阅及其用量"},
}

// marketOverridden lists keys marketMessages shares with another file.
var marketOverridden []string

func init() { marketOverridden = messages.Add(marketMessages) }
