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
	"dapi.help": {
		"en":    "Routes whose backend is a database: a wizard (table, columns, filters, order, page size) or a script (one statement with :name parameters). Request values are bound as typed parameters, never spliced into SQL.",
		"zh-CN": "后端为数据库的 API：向导模式（表、返回列、过滤条件、排序、分页大小）或脚本模式（一条带 :name 参数的 SQL 语句）。请求参数按类型绑定，从不拼接进 SQL。",
	},
	"dapi.no_services":      {"en": "No services yet: add one first.", "zh-CN": "还没有服务：请先新建服务。"},
	"dapi.none":             {"en": "This service has no data APIs yet.", "zh-CN": "该服务还没有数据 API。"},
	"dapi.mode":             {"en": "Mode", "zh-CN": "模式"},
	"dapi.wizard":           {"en": "wizard", "zh-CN": "向导模式"},
	"dapi.script":           {"en": "script", "zh-CN": "脚本模式"},
	"dapi.reads":            {"en": "Reads", "zh-CN": "读取"},
	"dapi.new_wizard":       {"en": "New data API (wizard)", "zh-CN": "新建数据 API（向导）"},
	"dapi.new_script":       {"en": "New data API (script)", "zh-CN": "新建数据 API（脚本）"},
	"dapi.wizard_title":     {"en": "Data API wizard", "zh-CN": "生成 API 向导"},
	"dapi.script_title":     {"en": "Data API script", "zh-CN": "生成 API 脚本"},
	"dapi.data_source":      {"en": "Data source", "zh-CN": "数据源"},
	"dapi.no_data_sources":  {"en": "No data source yet: register one first.", "zh-CN": "还没有数据源：请先登记。"},
	"dapi.table":            {"en": "Table", "zh-CN": "表"},
	"dapi.next":             {"en": "Next", "zh-CN": "下一步"},
	"dapi.tables_error":     {"en": "The tables could not be listed; type the table and columns.", "zh-CN": "无法列出数据表；请手动填写表名和列名。"},
	"dapi.route_name":       {"en": "API name (letters, digits, _)", "zh-CN": "API 名称（字母、数字、下划线）"},
	"dapi.columns":          {"en": "Columns returned", "zh-CN": "返回列"},
	"dapi.columns_text":     {"en": "Columns returned (comma-separated)", "zh-CN": "返回列（逗号分隔）"},
	"dapi.filters":          {"en": "Filters (request parameters)", "zh-CN": "过滤条件（请求参数）"},
	"dapi.filters_help":     {"en": "Each filter is a request parameter compared with a column; an empty row is left out.", "zh-CN": "每个过滤条件是一个与某列比较的请求参数；空行会被忽略。"},
	"dapi.param_name":       {"en": "Parameter", "zh-CN": "参数名"},
	"dapi.column":           {"en": "Column", "zh-CN": "列"},
	"dapi.column_same":      {"en": "(same as the parameter)", "zh-CN": "（与参数同名）"},
	"dapi.op":               {"en": "Operator", "zh-CN": "运算符"},
	"dapi.in":               {"en": "In", "zh-CN": "位置"},
	"dapi.order":            {"en": "Order", "zh-CN": "排序"},
	"dapi.page_size":        {"en": "Page size", "zh-CN": "分页大小"},
	"dapi.max_page_size":    {"en": "Largest page size a client may ask", "zh-CN": "客户端可请求的最大分页"},
	"dapi.sql":              {"en": "Statement (one, :name parameters)", "zh-CN": "SQL 语句（一条，:name 参数）"},
	"dapi.params":           {"en": "Parameters", "zh-CN": "参数"},
	"dapi.required":         {"en": "Required", "zh-CN": "必填"},
	"dapi.optional":         {"en": "Optional", "zh-CN": "选填"},
	"dapi.required_default": {"en": "Required (default)", "zh-CN": "是否必填（默认）"},
	"dapi.allow_write":      {"en": "Allow writing (runs outside a read-only transaction)", "zh-CN": "允许写入（不在只读事务中执行）"},
	"dapi.save_help": {
		"en":    "Saving prepares the statement on the data source (it is not run): a statement the database refuses comes back here with its message; a saved one shows the columns it returns.",
		"zh-CN": "保存时会在数据源上预编译该语句（不执行）：数据库拒绝的语句会连同错误信息返回此处；保存成功后显示其返回列。",
	},
	"dapi.prepare_save":        {"en": "Prepare and save", "zh-CN": "预编译并保存"},
	"dapi.generated":           {"en": "Generated route", "zh-CN": "生成的 API"},
	"dapi.result_columns":      {"en": "Result columns", "zh-CN": "返回列"},
	"dapi.result_columns_help": {"en": "As the database described them when the route was saved.", "zh-CN": "保存 API 时由数据库描述得出。"},
	"dapi.db_type":             {"en": "Database type", "zh-CN": "数据库类型"},
	"dapi.preview":             {"en": "Preview on the test group", "zh-CN": "在测试网关组上预览"},
	"dapi.preview_help": {
		"en":    "Sends one request through the project's test group: the service must run there (submit it first).",
		"zh-CN": "通过项目的测试网关组发送一个请求：服务须已在测试网关组运行（请先提交）。",
	},
	"dapi.preview_run": {"en": "Run", "zh-CN": "运行"},
}

// dataOverridden are the keys dataMessages redefined (none, or a test
// fails).
var dataOverridden []string

func init() { dataOverridden = messages.Add(dataMessages) }
