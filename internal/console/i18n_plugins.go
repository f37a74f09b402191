package console

import "github.com/portico-gw/portico/internal/webpage"

// pluginMessages are the catalogue's keys of the policy editor (a
// service's and its routes' plugins, the effective chain) and of editing
// a service's settings and an upstream's nodes after creation. Plugin
// names stay as they are in both languages. init merges them into
// messages.
var pluginMessages = webpage.Catalogue{
	"plg.title":          {"en": "Plugins and settings", "zh-CN": "插件与设置"},
	"plg.summary":        {"en": "Plugins", "zh-CN": "插件"},
	"plg.open":           {"en": "Edit plugins and settings", "zh-CN": "编辑插件与设置"},
	"plg.service":        {"en": "Service plugins", "zh-CN": "服务插件"},
	"plg.service_help":   {"en": "Plugins of the service run on every route; a route's own configuration of the same plugin wins.", "zh-CN": "服务的插件作用于每条路由；路由自己配置的同名插件优先。"},
	"plg.route":          {"en": "Route %s", "zh-CN": "路由 %s"},
	"plg.none":           {"en": "No plugins set.", "zh-CN": "未设置插件。"},
	"plg.add":            {"en": "Add plugin", "zh-CN": "添加插件"},
	"plg.pick":           {"en": "Plugin", "zh-CN": "插件"},
	"plg.configure":      {"en": "Configure", "zh-CN": "配置"},
	"plg.phase":          {"en": "Phase", "zh-CN": "阶段"},
	"plg.config":         {"en": "Configuration", "zh-CN": "配置"},
	"plg.remove":         {"en": "Remove", "zh-CN": "移除"},
	"plg.confirm_remove": {"en": "Remove the plugin %[1]s from %[2]s? Its configuration is deleted from the template; what runs changes at the next publish.", "zh-CN": "确定从 %[2]s 移除插件 %[1]s？其配置将从模板中删除；下次发布后运行中的服务随之改变。"},
	"plg.the_service":    {"en": "the service", "zh-CN": "服务"},
	"plg.the_route":      {"en": "the route %s", "zh-CN": "路由 %s"},
	"plg.chain":          {"en": "Effective chain", "zh-CN": "生效的插件链"},
	"plg.chain_help":     {"en": "The order the gateway runs this route's plugins in: the service's merged with the route's (the route's configuration wins), by phase.", "zh-CN": "网关运行本路由插件的顺序：服务插件与路由插件合并（路由的配置优先），按阶段排序。"},
	"plg.chain_empty":    {"en": "No plugin runs on this route.", "zh-CN": "本路由不运行任何插件。"},
	"plg.from":           {"en": "Set on", "zh-CN": "来自"},
	"plg.from_service":   {"en": "service", "zh-CN": "服务"},
	"plg.from_route":     {"en": "route", "zh-CN": "路由"},
	"plg.lines":          {"en": "one per line", "zh-CN": "每行一个"},
	"plg.json":           {"en": "JSON", "zh-CN": "JSON"},
	"plg.unset":          {"en": "— not set —", "zh-CN": "— 未设置 —"},
	"plg.required":       {"en": "required", "zh-CN": "必填"},
	"plg.no_fields":      {"en": "This plugin takes no configuration.", "zh-CN": "此插件无需配置。"},
	"plg.unknown":        {"en": "This plugin is not in the gateway's catalogue: edit its configuration as JSON.", "zh-CN": "网关的插件目录中没有此插件：请以 JSON 编辑其配置。"},
	"plg.settings":       {"en": "Service settings", "zh-CN": "服务设置"},
	"plg.upstream":       {"en": "Upstream", "zh-CN": "上游"},
	"plg.inline_up":      {"en": "— the service's own nodes —", "zh-CN": "— 服务自带的节点 —"},
	"plg.path_help":      {"en": "/x or /x/y, or default: the path of the service's catalog folder.", "zh-CN": "/x 或 /x/y，或 default：使用服务所在目录的路径。"},
	"plg.no_route":       {"en": "This route is not in the service any more.", "zh-CN": "该路由已不在此服务中。"},
	"plg.edit_nodes":     {"en": "Edit nodes", "zh-CN": "编辑节点"},
	"plg.stream":         {"en": "A stream service has no HTTP plugins: each stream route takes its own, ip-restriction and limit-conn.", "zh-CN": "四层（stream）服务没有 HTTP 插件：每个 stream 路由各自设置 ip-restriction 与 limit-conn。"},
	"plg.stream_route":   {"en": "Stream route %s", "zh-CN": "Stream 路由 %s"},
	"plg.the_stream":     {"en": "the stream route %s", "zh-CN": "stream 路由 %s"},
	// The phases of a route's chain (plugin.Phase's names).
	"plg.phase.ip-restriction": {"en": "IP restriction", "zh-CN": "IP 限制"},
	"plg.phase.cors":           {"en": "CORS", "zh-CN": "跨域（CORS）"},
	"plg.phase.authentication": {"en": "authentication", "zh-CN": "认证"},
	"plg.phase.subscription":   {"en": "subscription", "zh-CN": "订阅"},
	"plg.phase.rate-limit":     {"en": "rate limit", "zh-CN": "限流"},
	"plg.phase.validation":     {"en": "validation", "zh-CN": "校验"},
	"plg.phase.size-limit":     {"en": "size limit", "zh-CN": "大小限制"},
	"plg.phase.transform":      {"en": "transform", "zh-CN": "转换"},
	"plg.phase.canary":         {"en": "canary", "zh-CN": "灰度"},
	"plg.phase.backend":        {"en": "backend", "zh-CN": "后端"},
	"plg.phase.response":       {"en": "response", "zh-CN": "响应"},
	"flash.plugin_saved":       {"en": "Plugin saved.", "zh-CN": "插件已保存。"},
	"flash.plugin_gone":        {"en": "Plugin removed.", "zh-CN": "插件已移除。"},
}

// pluginsOverridden are the keys pluginMessages redefined (none, or a
// test fails).
var pluginsOverridden []string

func init() { pluginsOverridden = messages.Add(pluginMessages) }
