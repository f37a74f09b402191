package console

import "github.com/portico-gw/portico/internal/webpage"

// monitoringMessages are the catalogue's keys of the monitoring pages:
// the dashboard of a group's day and a service's metrics over an hour, a
// day or 30 days. init merges them into messages; a key another file
// defines is reported by TestMonitoringMessagesOverrideNothing.
var monitoringMessages = webpage.Catalogue{
	"nav.monitoring": {"en": "Monitoring", "zh-CN": "监控大盘"}, "tab.metrics": {"en": "Metrics", "zh-CN": "指标"},
	"mon.today":          {"en": "Today since %s (%s)", "zh-CN": "今日（自 %s 起，%s）"},
	"mon.requests_today": {"en": "Requests today", "zh-CN": "今日请求数"}, "mon.errors_today": {"en": "Errors today (5xx)", "zh-CN": "今日错误数（5xx）"},
	"mon.top_requests": {"en": "Top APIs by traffic", "zh-CN": "调用量 Top API"}, "mon.top_errors": {"en": "Top APIs by errors", "zh-CN": "错误数 Top API"},
	"mon.instances": {"en": "Gateway instances", "zh-CN": "网关实例"}, "mon.applied": {"en": "%d of %d live instances serve revision %d", "zh-CN": "%[2]d 个在线实例中 %[1]d 个运行版本 %[3]d"},
	"mon.api": {"en": "API", "zh-CN": "API"}, "mon.project": {"en": "Project", "zh-CN": "项目"},
	"mon.errors": {"en": "Errors", "zh-CN": "错误数"}, "mon.no_traffic": {"en": "No traffic counted today.", "zh-CN": "今日尚无流量。"},
	"mon.no_errors": {"en": "No errors today.", "zh-CN": "今日没有错误。"}, "mon.no_instances": {"en": "No gateway instance has reported.", "zh-CN": "尚无网关实例上报。"},
	"mon.instance": {"en": "Instance", "zh-CN": "实例"}, "mon.host": {"en": "Host", "zh-CN": "主机"}, "mon.state": {"en": "State", "zh-CN": "状态"},
	"mon.last_seen": {"en": "Last seen", "zh-CN": "最近心跳"}, "mon.embedded": {"en": "embedded", "zh-CN": "内置"},
	"mon.window_1h": {"en": "Last hour", "zh-CN": "最近 1 小时"}, "mon.window_24h": {"en": "Last 24 hours", "zh-CN": "最近 24 小时"},
	"mon.window_30d": {"en": "Last 30 days", "zh-CN": "最近 30 天"}, "mon.route": {"en": "Route", "zh-CN": "路由"},
	"mon.all_routes": {"en": "All routes", "zh-CN": "全部路由"}, "mon.by_route": {"en": "By route", "zh-CN": "按路由"},
	"mon.step": {"en": "one point every %s", "zh-CN": "每 %s 一个点"}, "mon.latency": {"en": "Latency", "zh-CN": "延迟"},
	"mon.upstream_latency": {"en": "Upstream latency", "zh-CN": "上游延迟"}, "mon.deleted_route": {"en": "(deleted route)", "zh-CN": "（已删除的路由）"},
	"mon.none": {"en": "No traffic in this window.", "zh-CN": "该时间段内没有流量。"},
}

var monitoringOverridden []string

func init() { monitoringOverridden = messages.Add(monitoringMessages) }
