package console

import "github.com/portico-gw/portico/internal/webpage"

// canaryMessages are the catalogue's keys of a service's canary tab, of
// the service page's unpublished-changes marker and of the charts' time
// axes. init merges them into messages; a key another file defines is
// reported by TestCanaryMessagesOverrideNothing.
var canaryMessages = webpage.Catalogue{
	"cy.heading": {"en": "Canary release", "zh-CN": "灰度发布"},
	"cy.help": {
		"en":    "A canary sends a share of one gateway group's traffic of this service, and every request a rule matches, to a target: another version of the service or an upstream. Full release makes the target what the group runs; cancel sends all traffic back.",
		"zh-CN": "灰度发布把本服务在一个网关组中的部分流量，以及规则匹配到的请求，转发到目标：本服务的另一个版本或一个上游。全量发布让该网关组运行目标；取消则把全部流量切回。",
	},
	"cy.target":           {"en": "Target", "zh-CN": "灰度目标"},
	"cy.target_version":   {"en": "version %s", "zh-CN": "版本 %s"},
	"cy.target_upstream":  {"en": "upstream %s", "zh-CN": "上游 %s"},
	"cy.target_inline":    {"en": "an upstream given inline %s", "zh-CN": "内联上游 %s"},
	"cy.target_versions":  {"en": "Versions of this service", "zh-CN": "本服务的版本"},
	"cy.target_upstreams": {"en": "Upstreams of the project", "zh-CN": "项目的上游"},
	"cy.version_n":        {"en": "version %s", "zh-CN": "版本 %s"},
	"cy.runs_in":          {"en": "runs in %s", "zh-CN": "运行于 %s"},
	"cy.address":          {"en": "address", "zh-CN": "地址"},
	"cy.weight_pct":       {"en": "Weight (% of traffic to the target)", "zh-CN": "权重（转发到目标的流量百分比）"},
	"cy.name_opt":         {"en": "Name (optional)", "zh-CN": "名称（可选）"},
	"cy.no_group": {
		"en":    "This service runs in no gateway group yet: publish it first, then start a canary there.",
		"zh-CN": "本服务尚未在任何网关组运行：请先发布，再在该网关组开始灰度。",
	},
	"cy.rules":     {"en": "Rules", "zh-CN": "灰度规则"},
	"cy.rules_opt": {"en": "Rules (optional)", "zh-CN": "灰度规则（可选）"},
	"cy.rules_help": {
		"en":    "A request a rule matches always goes to the target, whatever the weight. A row left empty is no rule.",
		"zh-CN": "匹配任一规则的请求总是转发到目标，与权重无关。留空的行不算规则。",
	},
	"cy.rules_none":  {"en": "none (the weight alone decides)", "zh-CN": "无（仅按权重分流）"},
	"cy.rule_kind":   {"en": "Match on", "zh-CN": "匹配对象"},
	"cy.rule_name":   {"en": "Name", "zh-CN": "名称"},
	"cy.rule_op":     {"en": "Comparison", "zh-CN": "比较方式"},
	"cy.kind_header": {"en": "header", "zh-CN": "请求头"},
	"cy.kind_cookie": {"en": "cookie", "zh-CN": "Cookie"},
	"cy.kind_query":  {"en": "query parameter", "zh-CN": "查询参数"},
	"cy.op_equals":   {"en": "equals", "zh-CN": "等于"},
	"cy.op_matches":  {"en": "matches (regular expression)", "zh-CN": "匹配（正则表达式）"},
	"cy.hash_on":     {"en": "Keep a client on one side by", "zh-CN": "会话保持依据"},
	"cy.hash_help": {
		"en":    "Optional: header:NAME, cookie:NAME or ip — the same value always gets the same side.",
		"zh-CN": "可选：header:名称、cookie:名称 或 ip —— 相同的值总是落到同一侧。",
	},
	"cy.routes":     {"en": "Routes", "zh-CN": "API 范围"},
	"cy.routes_opt": {"en": "Routes (optional)", "zh-CN": "API 范围（可选）"},
	"cy.routes_help": {
		"en":    "Tick the routes the canary covers; none ticked covers every route.",
		"zh-CN": "勾选灰度覆盖的 API；都不勾选则覆盖全部 API。",
	},
	"cy.routes_all": {"en": "all routes", "zh-CN": "全部 API"},
	"cy.no_routes":  {"en": "The service has no routes yet.", "zh-CN": "本服务还没有 API。"},
	"cy.guard":      {"en": "Guard", "zh-CN": "自动熔断保护"},
	"cy.guard_opt":  {"en": "Guard (optional automatic brake)", "zh-CN": "自动熔断保护（可选）"},
	"cy.guard_help": {
		"en":    "Fill in to have the canary cancel itself when the target's error rate passes the limit over the window, once it has answered at least the minimum of requests. Window: 10s to 15m, 1m when left empty.",
		"zh-CN": "填写后，当目标在时间窗口内的错误率超过上限、且已应答的请求数达到下限时，灰度自动取消。时间窗口：10s 到 15m，留空为 1m。",
	},
	"cy.guard_rate":   {"en": "Error rate above (%)", "zh-CN": "错误率上限（%）"},
	"cy.guard_min":    {"en": "Minimum requests", "zh-CN": "最少请求数"},
	"cy.guard_window": {"en": "Window", "zh-CN": "时间窗口"},
	"cy.guard_text": {
		"en":    "cancel when the target's error rate passes %[1]s over %[2]s, after at least %[3]d requests",
		"zh-CN": "目标在 %[2]s 内错误率超过 %[1]s（至少 %[3]d 个请求）时自动取消",
	},
	"cy.guard_none": {"en": "none", "zh-CN": "未设置"},
	"cy.confirm_promote": {
		"en":    "Gateway group %s will run %s for all of its traffic of this service, and the canary ends.",
		"zh-CN": "网关组 %s 中本服务的全部流量将由 %s 处理，灰度结束。",
	},
	"cy.edit": {"en": "Edit rules, routes and guard", "zh-CN": "编辑规则、API 范围与保护"},
	"cy.edit_help": {
		"en":    "Changes what the running canary sends to its target, from the next request on. The target stays; the weight has its own control above.",
		"zh-CN": "修改运行中的灰度转发到目标的请求，从下一个请求起生效。灰度目标不变；权重请用上方的控件调整。",
	},
	"cy.edit_guard_help": {
		"en":    "Empty all three fields to remove the guard.",
		"zh-CN": "清空这三项即可移除自动熔断保护。",
	},
	"cy.edit_save":          {"en": "Save changes", "zh-CN": "保存修改"},
	"flash.canary_edit":     {"en": "Canary changed.", "zh-CN": "灰度已修改。"},
	"cy.promote_version":    {"en": "Version to record (optional)", "zh-CN": "记录的版本号（可选）"},
	"cy.promote_version_ph": {"en": "the next patch version", "zh-CN": "默认为下一个修订版本"},
	"cy.confirm_cancel": {
		"en":    "All traffic of this service in gateway group %s goes back to version %s, and the canary ends.",
		"zh-CN": "网关组 %s 中本服务的全部流量将切回版本 %s，灰度结束。",
	},
	"cy.what":        {"en": "Target, rules, routes, guard", "zh-CN": "目标、规则、范围、保护"},
	"cy.reason":      {"en": "Why it ended", "zh-CN": "结束原因"},
	"cy.ended":       {"en": "ended", "zh-CN": "结束于"},
	"cy.promoted_as": {"en": "released as version %s", "zh-CN": "已发布为版本 %s"},
	"cy.by_guard":    {"en": "Cancelled by its guard:", "zh-CN": "已被自动熔断保护取消："},
	"cy.err_weight":  {"en": "must be a whole number from 0 to 100", "zh-CN": "须为 0 到 100 的整数"},
	"cy.err_target":  {"en": "pick a version of the service or an upstream", "zh-CN": "请选择本服务的一个版本或一个上游"},
	"cy.err_guard_rate": {
		"en":    "must be a number: the percentage of failed requests, e.g. 5",
		"zh-CN": "须为数字：失败请求的百分比，例如 5",
	},
	"cy.err_guard_min": {
		"en":    "must be a whole number of requests, e.g. 20",
		"zh-CN": "须为请求数（整数），例如 20",
	},

	"unp.marker": {"en": "Unpublished changes (%d) — see the diff", "zh-CN": "有未发布的修改（%d 处）—— 查看差异"},
	"unp.title": {
		"en":    "The service's template differs from version %[2]s, which gateway group %[1]s runs: publish to run the changes there.",
		"zh-CN": "服务模板与网关组 %[1]s 运行的版本 %[2]s 不同：发布后这些修改才会生效。",
	},

	"chart.span_d":  {"en": "%d d", "zh-CN": "%d 天"},
	"chart.series":  {"en": "lowest %s, highest %s, latest %s", "zh-CN": "最低 %s，最高 %s，最新 %s"},
	"chart.alt":     {"en": "%[1]s from %[2]s to %[3]s: %[4]s", "zh-CN": "%[1]s，%[2]s 至 %[3]s：%[4]s"},
	"chart.no_data": {"en": "no data yet", "zh-CN": "暂无数据"},
}

// canaryOverridden are the keys canaryMessages redefined (none, or a test
// fails).
var canaryOverridden []string

func init() { canaryOverridden = messages.Add(canaryMessages) }
