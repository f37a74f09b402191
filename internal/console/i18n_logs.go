package console

import "github.com/portico-gw/portico/internal/webpage"

// logMessages are the catalogue's keys of a project's call log (the
// search and one call's page) and of its permission. init merges them
// into messages; a key another file defines is reported by
// TestLogMessagesOverrideNothing.
var logMessages = webpage.Catalogue{
	"nav.logs":  {"en": "Logs", "zh-CN": "调用日志"},
	"log.call":  {"en": "Call", "zh-CN": "调用"},
	"log.route": {"en": "Route", "zh-CN": "路由"}, "log.status": {"en": "Status", "zh-CN": "状态码"},
	"log.consumer": {"en": "Consumer", "zh-CN": "调用方"}, "log.request_id": {"en": "Request ID", "zh-CN": "请求 ID"},
	"log.service_route": {"en": "Service / route", "zh-CN": "服务 / 路由"}, "log.latency": {"en": "Latency", "zh-CN": "耗时"},
	"log.range": {"en": "Time range", "zh-CN": "时间范围"}, "log.range_15m": {"en": "Last 15 minutes", "zh-CN": "最近 15 分钟"},
	"log.range_1h": {"en": "Last hour", "zh-CN": "最近 1 小时"}, "log.range_24h": {"en": "Last 24 hours", "zh-CN": "最近 24 小时"},
	"log.range_custom": {"en": "Custom (from, to)", "zh-CN": "自定义（起止时间）"},
	"log.help": {
		"en":    "The calls the gateways answered for this project, newest first, kept for a day by default. A search by request ID looks through every call kept, whatever the time range.",
		"zh-CN": "网关为本项目处理的调用，按时间倒序，默认保留一天。按请求 ID 查询时忽略时间范围，在保留的全部调用中查找。",
	},
	"log.none":   {"en": "No call matches these filters.", "zh-CN": "没有符合条件的调用。"},
	"log.older":  {"en": "Older", "zh-CN": "更早"},
	"log.client": {"en": "Client", "zh-CN": "客户端地址"}, "log.upstream": {"en": "Upstream node", "zh-CN": "上游节点"},
	"log.upstream_status": {"en": "Upstream status", "zh-CN": "上游状态码"}, "log.no_answer": {"en": "no answer", "zh-CN": "无响应"},
	"log.upstream_latency": {"en": "Upstream latency", "zh-CN": "上游耗时"}, "log.bytes": {"en": "Bytes in / out", "zh-CN": "请求 / 响应字节数"},
	"log.error": {"en": "Error", "zh-CN": "错误"}, "log.error_detail": {"en": "Error detail", "zh-CN": "错误详情"},
	"log.side": {"en": "Canary side", "zh-CN": "灰度分流"}, "log.side_canary": {"en": "canary", "zh-CN": "灰度"},
	"log.side_stable": {"en": "stable", "zh-CN": "稳定版"}, "log.trace_id": {"en": "Trace ID", "zh-CN": "Trace ID"},
	"log.instance":     {"en": "Gateway instance", "zh-CN": "网关实例"},
	"log.request_body": {"en": "Request body", "zh-CN": "请求体"}, "log.response_body": {"en": "Response body", "zh-CN": "响应体"},

	"perm.log:read": {"en": "search the calls the gateways answered for the project", "zh-CN": "查询网关为项目处理的调用日志"},
}

// logsOverridden are the keys logMessages redefined (none, or a test
// fails).
var logsOverridden []string

func init() { logsOverridden = messages.Add(logMessages) }
