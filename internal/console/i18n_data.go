package console

import "github.com/portico-gw/portico/internal/webpage"

// dataMessages are the catalogue's keys of the data sources, the data
// API wizard and script editor, and the catalog folders. init merges them
// into messages; a key another file defines is reported by
// TestDataMessagesOverrideNothing.
var dataMessages = webpage.Catalogue{
	"nav.data_sources": {"en": "Data sources", "zh-CN": "数据源"},
	"nav.data_apis":    {"en": "Data APIs", "zh-CN": "数据 API"},
	"nav.folders":      {"en": "Folders", "zh-CN": "目录"},

	"ds.help": {
		"en":    "Databases (PostgreSQL, MySQL/MariaDB) that generated data APIs read. A password is stored encrypted and never shown again.",
		"zh-CN": "生成数据 API 所读取的数据库（PostgreSQL、MySQL/MariaDB）。密码加密保存，之后不再显示。",
	},
	"ds.empty":              {"en": "No data sources yet. Register a database to generate APIs from it.", "zh-CN": "还没有数据源。登记一个数据库以生成 API。"},
	"ds.new":                {"en": "New data source", "zh-CN": "新建数据源"},
	"ds.title":              {"en": "Data source", "zh-CN": "数据源"},
	"ds.database":           {"en": "Database", "zh-CN": "数据库"},
	"ds.user":               {"en": "User", "zh-CN": "用户"},
	"ds.password":           {"en": "Password", "zh-CN": "密码"},
	"ds.password_set":       {"en": "stored", "zh-CN": "已保存"},
	"ds.password_keep":      {"en": "unchanged", "zh-CN": "保持不变"},
	"ds.password_keep_help": {"en": "Leave the password empty to keep the stored one.", "zh-CN": "密码留空则保留已保存的密码。"},
	"ds.port_default":       {"en": "default", "zh-CN": "默认"},
	"ds.params":             {"en": "Driver options (one name=value a line)", "zh-CN": "驱动参数（每行一个 name=value）"},
	"ds.max_open":           {"en": "Connections per gateway (max)", "zh-CN": "每个网关的最大连接数"},
	"ds.test":               {"en": "Test connection", "zh-CN": "测试连接"},
	"ds.test_help": {
		"en":    "Connects to the saved host and port (save a change first); at most 10 tests a minute.",
		"zh-CN": "连接已保存的主机和端口（修改请先保存）；每分钟最多测试 10 次。",
	},
	"ds.test_ok":     {"en": "Connected in", "zh-CN": "连接成功，耗时"},
	"ds.test_failed": {"en": "Connection failed:", "zh-CN": "连接失败："},
	"ds.confirm_delete": {
		"en":    "Delete data source “%s” (%s, %s, database %s)? A data source a route uses cannot be deleted.",
		"zh-CN": "删除数据源“%s”（%s，%s，数据库 %s）？被 API 使用的数据源无法删除。",
	},
	"fold.help": {
		"en":    "Catalog folders form a tree. A folder's path is the default path of its services: a service whose path is “default” answers under it, so changing it moves their URLs.",
		"zh-CN": "API 目录构成一棵树。目录的路径是其下服务的默认路径：路径为“default”（默认值）的服务使用它，因此修改目录路径会改变这些服务的 URL。",
	},
	"fold.empty":        {"en": "No folders yet.", "zh-CN": "还没有目录。"},
	"fold.new":          {"en": "New folder", "zh-CN": "新建目录"},
	"fold.path":         {"en": "Default path (at most two segments)", "zh-CN": "默认路径（最多两级）"},
	"fold.default_path": {"en": "Default path of its services", "zh-CN": "服务默认路径"},
	"fold.no_path":      {"en": "none", "zh-CN": "无"},
	"fold.parent":       {"en": "Parent folder", "zh-CN": "上级目录"},
	"fold.top":          {"en": "(top level)", "zh-CN": "（顶级）"},
	"fold.confirm_delete": {
		"en":    "Delete folder “%s”? Only an empty folder can be deleted.",
		"zh-CN": "删除目录“%s”？只能删除空目录。",
	},
	"fold.confirm_title": {"en": "Confirm: these URLs will move", "zh-CN": "确认：以下 URL 将会变更"},
	"fold.confirm_help": {
		"en":    "Saving folder “%s” with path “%s” moves the URLs of running services below. Clients calling the old URLs will get 404.",
		"zh-CN": "保存目录“%s”（路径“%s”）会改变下列运行中服务的 URL。调用旧 URL 的客户端将收到 404。",
	},
	"fold.route":        {"en": "Route", "zh-CN": "API"},
	"fold.from":         {"en": "From", "zh-CN": "原 URL"},
	"fold.to":           {"en": "To", "zh-CN": "新 URL"},
	"fold.confirm_move": {"en": "Move these URLs and save", "zh-CN": "确认变更并保存"},
	"fold.cancel":       {"en": "Cancel", "zh-CN": "取消"},
}

// dataOverridden are the keys dataMessages redefined (none, or a test
// fails).
var dataOverridden []string

func init() { dataOverridden = messages.Add(dataMessages) }
