package console

import "github.com/portico-gw/portico/internal/webpage"

// compositeMessages are the catalogue's keys of composite routes on the
// console (composite.go). init merges them into messages; a key another
// file defines is reported by TestCompositeMessagesOverrideNothing.
var compositeMessages = webpage.Catalogue{
	"cmp.backend":        {"en": "Backend", "zh-CN": "后端"},
	"cmp.type":           {"en": "Backend type", "zh-CN": "后端类型"},
	"cmp.type_upstream":  {"en": "Upstream (proxy to the service's backend)", "zh-CN": "上游（转发到服务的后端）"},
	"cmp.type_composite": {"en": "Composite (calls other APIs and combines their answers)", "zh-CN": "组合（调用其他 API 并合并其响应）"},
	"cmp.flow":           {"en": "Composite flow (JSON)", "zh-CN": "组合编排（JSON）"},
	"cmp.flow_help": {
		"en":    `Used when the backend type is composite. {"steps": [...], "response": {"body": "…"}}: each step calls a route of another service of this project running in the same group ("service" and "route") or this service's upstream ("path"); expressions read the request (request.params.id) and earlier steps (steps.user.body). Steps run in parallel unless one waits for another ("after", or an expression that reads it).`,
		"zh-CN": `后端类型为“组合”时使用。{"steps": [...], "response": {"body": "…"}}：每个步骤调用本项目中运行于同一网关组的另一服务的路由（"service" 与 "route"），或本服务的上游（"path"）；表达式可读取请求（request.params.id）和之前的步骤（steps.user.body）。步骤默认并行执行，除非它等待另一步骤（"after"，或表达式中读取了该步骤）。`,
	},
	"cmp.flow_required":     {"en": "is required for a composite backend: the steps and the response, as JSON", "zh-CN": "组合后端必填：以 JSON 给出步骤和响应"},
	"cmp.flow_too_long":     {"en": "is longer than %d KiB", "zh-CN": "超过 %d KiB"},
	"cmp.flow_not_json":     {"en": "is not valid JSON", "zh-CN": "不是有效的 JSON"},
	"cmp.upstream":          {"en": "upstream", "zh-CN": "上游"},
	"cmp.after":             {"en": "after", "zh-CN": "等待"},
	"cmp.optional":          {"en": "optional", "zh-CN": "可选"},
	"cmp.steps":             {"en": "Composite steps", "zh-CN": "组合步骤"},
	"cmp.step":              {"en": "Step", "zh-CN": "步骤"},
	"cmp.request":           {"en": "Request", "zh-CN": "请求"},
	"cmp.outcome":           {"en": "Outcome", "zh-CN": "结果"},
	"cmp.timing":            {"en": "Start + time", "zh-CN": "开始 + 耗时"},
	"cmp.timeline":          {"en": "Time line of the call", "zh-CN": "调用时间线"},
	"cmp.attempts":          {"en": "attempts: %d", "zh-CN": "尝试次数：%d"},
	"cmp.outcome_ok":        {"en": "ok", "zh-CN": "成功"},
	"cmp.outcome_failed":    {"en": "failed", "zh-CN": "失败"},
	"cmp.outcome_fallback":  {"en": "fallback", "zh-CN": "降级"},
	"cmp.outcome_skipped":   {"en": "skipped", "zh-CN": "跳过"},
	"cmp.outcome_timeout":   {"en": "timed out", "zh-CN": "超时"},
	"cmp.outcome_cancelled": {"en": "cancelled", "zh-CN": "已取消"},
	"cmp.not_recorded": {
		"en":    "The steps of this call are not recorded yet: gateways send their call records every few seconds.",
		"zh-CN": "本次调用的步骤尚未记录：网关每隔几秒发送一次调用记录。",
	},
	"cmp.open_log":   {"en": "See them in the call log", "zh-CN": "在调用日志中查看"},
	"cmp.deps":       {"en": "Composite APIs", "zh-CN": "组合 API"},
	"cmp.uses":       {"en": "Uses", "zh-CN": "调用的 API"},
	"cmp.uses_help":  {"en": "The APIs this service's composite routes call.", "zh-CN": "本服务的组合路由所调用的 API。"},
	"cmp.used_by":    {"en": "Used by", "zh-CN": "被以下 API 调用"},
	"cmp.used_help":  {"en": "The composite routes of other services that call this service's routes.", "zh-CN": "调用本服务路由的其他服务的组合路由。"},
	"cmp.runs_in":    {"en": "runs in", "zh-CN": "运行于"},
	"cmp.missing_in": {"en": "not running in", "zh-CN": "未运行于"},
	"cmp.in_group":   {"en": "in group", "zh-CN": "网关组"},
	"cmp.called_by":  {"en": "called by", "zh-CN": "调用方路由"},
	"cmp.template":   {"en": "service template (not running)", "zh-CN": "服务模板（未运行）"},
}

// compositeOverridden are the keys compositeMessages redefined (none, or
// a test fails).
var compositeOverridden []string

func init() { compositeOverridden = messages.Add(compositeMessages) }
