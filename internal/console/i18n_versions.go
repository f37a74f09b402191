package console

import "github.com/portico-gw/portico/internal/webpage"

// versionMessages are the catalogue's keys of a service's Versions tab
// (edit from a version, diffs) and of the sync preview. init merges them
// into messages; a key another file defines is reported by
// TestVersionMessagesOverrideNothing.
var versionMessages = webpage.Catalogue{
	"tab.versions": {"en": "Versions", "zh-CN": "版本"},
	"ver.help": {
		"en":    "Each publish froze the template as a version. Edit from a version to make the template what it holds again (routes matched by name); nothing runs differently until the template is published.",
		"zh-CN": "每次发布都会把当前模板固化为一个版本。基于某个版本编辑，会把模板恢复为该版本的内容（API 按名称对应）；在再次发布之前，网关运行的内容不变。",
	},
	"ver.created_by": {"en": "By", "zh-CN": "发布人"},
	"ver.restore":    {"en": "Edit from this version", "zh-CN": "基于此版本编辑"},
	"ver.confirm_restore": {
		"en":    "Replace the template — routes, plugins, upstream, OpenAPI parts — with what this version holds? Edits of the template since then are lost (the versions keep theirs).",
		"zh-CN": "用该版本的内容（API、插件、上游、OpenAPI 描述）替换当前模板？此后对模板的修改将丢失（已发布的版本不受影响）。",
	},
	"ver.diff_template": {"en": "Compare with the template", "zh-CN": "与模板对比"},
	"ver.diff":          {"en": "Compare", "zh-CN": "版本对比"},
	"ver.diff_help": {
		"en":    "What changes from one side to the other, field by field: routes and plugins matched by name, upstream nodes by host:port; ids, times and the lifecycle state are left out.",
		"zh-CN": "逐字段列出从一侧到另一侧的变化：API 与插件按名称对应，上游节点按 主机:端口 对应；不比较标识、时间和发布状态。",
	},
	"ver.from": {"en": "From", "zh-CN": "从"}, "ver.to": {"en": "To", "zh-CN": "到"},
	"ver.template":  {"en": "template (being edited)", "zh-CN": "模板（编辑中）"},
	"ver.no_change": {"en": "No differences.", "zh-CN": "没有差异。"},
	"ver.field":     {"en": "Field", "zh-CN": "字段"}, "ver.change": {"en": "Change", "zh-CN": "变化"},
	"ver.before": {"en": "Before", "zh-CN": "之前"}, "ver.after": {"en": "After", "zh-CN": "之后"},
	"ver.op_added": {"en": "added", "zh-CN": "新增"}, "ver.op_removed": {"en": "removed", "zh-CN": "删除"},
	"ver.op_changed": {"en": "changed", "zh-CN": "修改"},
	"flash.restored": {"en": "The template now holds that version: edit it, then publish.", "zh-CN": "模板已恢复为该版本的内容：可继续编辑后发布。"},

	"act.preview_sync": {"en": "Preview changes", "zh-CN": "预览变更"},
	"sync.preview":     {"en": "Sync preview", "zh-CN": "同步预览"},
	"sync.preview_help": {
		"en":    "Nothing has changed yet. This is what the target group would run differently after the sync, field by field.",
		"zh-CN": "尚未做任何变更。以下逐字段列出同步后目标网关组运行内容的变化。",
	},
	"sync.would_run": {"en": "Would run version", "zh-CN": "将运行版本"},
	"sync.runs_now":  {"en": "Runs now", "zh-CN": "当前运行"},
	"sync.nothing":   {"en": "nothing", "zh-CN": "无"},
	"sync.confirm":   {"en": "Confirm sync", "zh-CN": "确认同步"},
	"sync.back":      {"en": "Back to the service", "zh-CN": "返回服务"},
}

// versionsOverridden are the keys versionMessages redefined (none, or a
// test fails).
var versionsOverridden []string

func init() { versionsOverridden = messages.Add(versionMessages) }
