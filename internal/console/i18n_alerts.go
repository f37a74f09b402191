package console

import "github.com/portico-gw/portico/internal/webpage"

// alertMessages are the catalogue's keys of the Alerts page. init merges
// them into messages; a key another file defines is reported by
// TestAlertMessagesOverrideNothing.
var alertMessages = webpage.Catalogue{
	"nav.alerts":              {"en": "Alerts", "zh-CN": "告警"},
	"alert.help":              {"en": "A rule watches one service's error rate or p99 latency in a gateway group over a window. When it passes the threshold the rule fires, and the project's webhook gets alert.firing; when it falls back, alert.resolved.", "zh-CN": "告警规则监控某个服务在一个网关组内、一段时间窗口中的错误率或 p99 延迟。超过阈值即触发告警，并向项目的 Webhook 发送 alert.firing；恢复后发送 alert.resolved。"},
	"alert.firing":            {"en": "firing", "zh-CN": "告警中"},
	"alert.ok":                {"en": "ok", "zh-CN": "正常"},
	"alert.resolved":          {"en": "resolved", "zh-CN": "已恢复"},
	"alert.disabled":          {"en": "disabled", "zh-CN": "已停用"},
	"alert.none":              {"en": "No alert rules yet.", "zh-CN": "还没有告警规则。"},
	"alert.new":               {"en": "New alert rule", "zh-CN": "新建告警规则"},
	"alert.condition":         {"en": "Condition", "zh-CN": "条件"},
	"alert.over":              {"en": "over", "zh-CN": "窗口"},
	"alert.requests":          {"en": "requests", "zh-CN": "请求数"},
	"alert.last_value":        {"en": "Value at last change", "zh-CN": "最近变化时的值"},
	"alert.changed":           {"en": "Since", "zh-CN": "变化时间"},
	"alert.history":           {"en": "Recent changes", "zh-CN": "最近的状态变化"},
	"alert.no_history":        {"en": "No alert has fired yet.", "zh-CN": "尚未触发过告警。"},
	"alert.value":             {"en": "Value / threshold", "zh-CN": "值 / 阈值"},
	"alert.metric":            {"en": "Metric", "zh-CN": "指标"},
	"alert.metric_error_rate": {"en": "Error rate (5xx)", "zh-CN": "错误率（5xx）"},
	"alert.metric_p99_ms":     {"en": "p99 latency (ms)", "zh-CN": "p99 延迟（毫秒）"},
	"alert.threshold":         {"en": "Threshold", "zh-CN": "阈值"},
	"alert.threshold_help":    {"en": "Error rate as a fraction (0.05 is 5 %); latency in milliseconds.", "zh-CN": "错误率填小数（0.05 即 5%）；延迟填毫秒。"},
	"alert.window":            {"en": "Window (1m–15m)", "zh-CN": "时间窗口（1m–15m）"},
	"alert.min_requests":      {"en": "At least this many requests", "zh-CN": "最少请求数"},
	"alert.group_default":     {"en": "the project's production group", "zh-CN": "项目的生产网关组"},
	"alert.enabled":           {"en": "Enabled", "zh-CN": "启用"},
}

// alertsOverridden are the keys alertMessages redefined (none, or a test
// fails).
var alertsOverridden []string

func init() { alertsOverridden = messages.Add(alertMessages) }
