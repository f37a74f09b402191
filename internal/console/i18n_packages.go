package console

import "github.com/portico-gw/portico/internal/webpage"

// packageMessages are the catalogue's keys of the Packages page. init
// merges them into messages; a key another file defines is reported by
// TestPackageMessagesOverrideNothing.
var packageMessages = webpage.Catalogue{
	"nav.packages": {"en": "Packages", "zh-CN": "发布包"},
	"pkg.help": {
		"en":    "Packages imported into this project from another project or install (portico ctl import package), newest first. A refused import stays here as failed, with the reason: correct the mapping of its upstreams and data sources to this project's and retry.",
		"zh-CN": "从其他项目或实例导入本项目的发布包（portico ctl import package），按时间倒序。被拒绝的导入以“失败”状态保留并注明原因：将其上游和数据源映射改正为本项目的之后可重试。",
	},
	"pkg.none":            {"en": "No package has been imported into this project.", "zh-CN": "本项目尚未导入任何发布包。"},
	"pkg.source":          {"en": "From project", "zh-CN": "来源项目"},
	"pkg.services":        {"en": "Services", "zh-CN": "服务"},
	"pkg.by":              {"en": "By", "zh-CN": "操作人"},
	"pkg.state_pending":   {"en": "pending", "zh-CN": "待发布"},
	"pkg.state_published": {"en": "published", "zh-CN": "已发布"},
	"pkg.state_failed":    {"en": "failed", "zh-CN": "失败"},
	"pkg.attempts":        {"en": "attempts:", "zh-CN": "尝试次数："},
	"pkg.reason":          {"en": "Reason", "zh-CN": "原因"},
	"pkg.unmapped":        {"en": "Not mapped", "zh-CN": "未映射"},
	"pkg.changes":         {"en": "What it changed", "zh-CN": "变更内容"},
	"pkg.retry":           {"en": "Retry", "zh-CN": "重试"},
	"pkg.mapping_help": {
		"en":    "Name the upstream (data source) of this project that stands for each one of the package.",
		"zh-CN": "为发布包中的每个上游（数据源）填写本项目中对应的上游（数据源）。",
	},
	"pkg.upstream":            {"en": "Upstream", "zh-CN": "上游"},
	"pkg.data_source":         {"en": "Data source", "zh-CN": "数据源"},
	"flash.package_published": {"en": "The package is published.", "zh-CN": "发布包已发布。"},
}

// packagesOverridden are the keys packageMessages redefined (none, or a
// test fails).
var packagesOverridden []string

func init() { packagesOverridden = messages.Add(packageMessages) }
