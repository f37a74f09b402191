package console

// messages is the console's catalogue: key → language → text. Every key
// has English and Simplified Chinese (TestCatalogueComplete checks it);
// the Chinese follows the seeds' wording (提交, 上线, 下线, 启用, 灰度发布, 全量发布).
var messages = map[string]map[string]string{
	"nav.skip": {"en": "Skip to content", "zh-CN": "跳到正文"}, "nav.main": {"en": "Main", "zh-CN": "主导航"},
	"nav.dashboard": {"en": "Dashboard", "zh-CN": "概览"}, "nav.projects": {"en": "Projects", "zh-CN": "项目"},
	"nav.groups": {"en": "Gateway groups", "zh-CN": "网关组"}, "nav.services": {"en": "Services", "zh-CN": "服务"},
	"nav.upstreams": {"en": "Upstreams", "zh-CN": "上游"}, "nav.import": {"en": "Import OpenAPI", "zh-CN": "导入 OpenAPI"},
	"nav.apps": {"en": "Applications", "zh-CN": "应用"}, "nav.logout": {"en": "Log out", "zh-CN": "退出登录"},

	"login.title": {"en": "Log in to Portico", "zh-CN": "登录 Portico"}, "login.username": {"en": "Username", "zh-CN": "用户名"},
	"login.password": {"en": "Password", "zh-CN": "密码"}, "login.submit": {"en": "Log in", "zh-CN": "登录"},
	"login.failed":    {"en": "Wrong username or password.", "zh-CN": "用户名或密码错误。"},
	"login.expired":   {"en": "Your session has expired; please log in again.", "zh-CN": "会话已过期，请重新登录。"},
	"login.throttled": {"en": "Too many failed attempts. Try again in %s seconds.", "zh-CN": "失败次数过多，请在 %s 秒后重试。"},
	"login.stale":     {"en": "The login form has expired or came from another site. Please try again.", "zh-CN": "登录表单已过期或来自其他站点，请重试。"},
	"login.or":        {"en": "or", "zh-CN": "或"},
	"login.sso":       {"en": "Sign in with single sign-on", "zh-CN": "使用单点登录"},

	"err.title": {"en": "Something went wrong", "zh-CN": "出错了"}, "err.csrf": {"en": "This form is stale or came from another site (CSRF check failed). Reload the page and try again.", "zh-CN": "表单已过期或来自其他站点（CSRF 校验失败），请刷新页面后重试。"},
	"err.form":      {"en": "The form could not be read", "zh-CN": "无法读取表单"},
	"err.internal":  {"en": "The request failed; it has been logged.", "zh-CN": "请求失败，已记录日志。"},
	"err.no_action": {"en": "No such action.", "zh-CN": "没有这个操作。"},

	"dash.groups": {"en": "gateway groups", "zh-CN": "网关组"}, "dash.projects": {"en": "projects", "zh-CN": "项目"},
	"dash.services": {"en": "services", "zh-CN": "服务"}, "dash.running": {"en": "services running", "zh-CN": "运行中的服务"},
	"dash.instances":   {"en": "The embedded gateway serves the groups given to portico server with --group; stand-alone gateways report here as they connect.", "zh-CN": "内嵌网关服务于 portico server 的 --group 所列网关组；独立网关连接后在此显示。"},
	"dash.go_services": {"en": "Go to services", "zh-CN": "前往服务列表"},

	"f.id": {"en": "ID", "zh-CN": "标识"}, "f.name": {"en": "Name", "zh-CN": "名称"}, "f.description": {"en": "Description", "zh-CN": "描述"},
	"f.prefix": {"en": "Path prefix", "zh-CN": "路径前缀"}, "f.revision": {"en": "Revision", "zh-CN": "配置版本"},
	"f.test_group": {"en": "Test group", "zh-CN": "测试网关组"}, "f.production_group": {"en": "Production group", "zh-CN": "生产网关组"},
	"f.project": {"en": "Project", "zh-CN": "项目"}, "f.service": {"en": "Service", "zh-CN": "服务"}, "f.version": {"en": "Version", "zh-CN": "版本"},
	"f.urls": {"en": "URLs", "zh-CN": "URL"}, "f.scheme": {"en": "Scheme", "zh-CN": "协议"}, "f.nodes": {"en": "Nodes", "zh-CN": "目标节点"},
	"f.host": {"en": "Host", "zh-CN": "主机"}, "f.port": {"en": "Port", "zh-CN": "端口"}, "f.weight": {"en": "Weight", "zh-CN": "权重"},
	"f.state": {"en": "State", "zh-CN": "状态"}, "f.path": {"en": "Path", "zh-CN": "路径"}, "f.paths": {"en": "Paths", "zh-CN": "路径"},
	"f.listener": {"en": "Listener", "zh-CN": "监听器"}, "svc.stream_routes": {"en": "Stream routes (layer 4)", "zh-CN": "四层路由"},
	"svc.stream_default": {"en": "the listener's default", "zh-CN": "监听器默认路由"},
	"f.updated":          {"en": "Updated", "zh-CN": "更新时间"}, "f.created": {"en": "Created", "zh-CN": "创建时间"}, "f.protocols": {"en": "Protocols", "zh-CN": "协议"},
	"f.methods": {"en": "Methods", "zh-CN": "HTTP 方法"}, "f.backend_path": {"en": "Backend path (rewrite)", "zh-CN": "后端路径（重写）"},
	"f.online": {"en": "Online", "zh-CN": "API 上线"}, "f.group": {"en": "Gateway group", "zh-CN": "网关组"}, "f.time": {"en": "Time", "zh-CN": "时间"},
	"f.action": {"en": "Action", "zh-CN": "操作"}, "f.actor": {"en": "By", "zh-CN": "操作人"}, "f.method": {"en": "Method", "zh-CN": "方法"},
	"f.type": {"en": "Type", "zh-CN": "类型"},
	"yes":    {"en": "Yes", "zh-CN": "是"}, "no": {"en": "No", "zh-CN": "否"},

	"act.add": {"en": "Add", "zh-CN": "添加"}, "act.add_node": {"en": "Add node", "zh-CN": "添加节点"}, "act.confirm": {"en": "Confirm", "zh-CN": "确认"},
	"act.copy": {"en": "Copy", "zh-CN": "复制"}, "act.create": {"en": "Create", "zh-CN": "创建"}, "act.delete": {"en": "Delete", "zh-CN": "删除"},
	"act.edit": {"en": "Edit", "zh-CN": "编辑"}, "act.publish_version": {"en": "Publish", "zh-CN": "发布"}, "act.revoke": {"en": "Revoke", "zh-CN": "吊销"},
	"act.rollback": {"en": "Roll back", "zh-CN": "回滚"}, "act.save": {"en": "Save", "zh-CN": "保存"}, "act.search": {"en": "Search", "zh-CN": "搜索"},
	"act.show": {"en": "Show", "zh-CN": "显示"}, "act.sync": {"en": "Sync", "zh-CN": "同步"},
	"act.submit": {"en": "Submit", "zh-CN": "提交"}, "act.withdraw": {"en": "Withdraw", "zh-CN": "撤回"}, "act.publish": {"en": "Publish", "zh-CN": "上线"},
	"act.disable": {"en": "Disable", "zh-CN": "下线"}, "act.enable": {"en": "Enable", "zh-CN": "启用"}, "act.republish": {"en": "Republish", "zh-CN": "二次发布"},
	"confirm.submit":    {"en": "Publish the template as a new version to the test group?", "zh-CN": "将当前模板作为新版本提交到测试网关组？"},
	"confirm.withdraw":  {"en": "Take the submitted version off the test group?", "zh-CN": "从测试网关组撤回已提交的版本？"},
	"confirm.publish":   {"en": "Run the tested version in production and list it in the catalog?", "zh-CN": "将测试通过的版本上线到生产网关组并在 API 市场展示？"},
	"confirm.disable":   {"en": "Take the service off production and hide it from the catalog?", "zh-CN": "将服务从生产环境下线并在 API 市场隐藏？"},
	"confirm.enable":    {"en": "Restore exactly what ran before it was disabled?", "zh-CN": "恢复下线前运行的版本？"},
	"confirm.republish": {"en": "Replace production's version with the one in the test group?", "zh-CN": "用测试网关组中的版本覆盖生产版本？"},
	"confirm.delete":    {"en": "Delete this service and its routes? This cannot be undone.", "zh-CN": "删除该服务及其全部 API？此操作不可撤销。"},
	"confirm.promote":   {"en": "Send all traffic to the target and make it the current backend?", "zh-CN": "将全部流量切到目标上游并设为当前后端？"},
	"confirm.cancel":    {"en": "Send all traffic back to the current backend?", "zh-CN": "将全部流量切回当前后端？"},

	"proj.new": {"en": "New project", "zh-CN": "新建项目"}, "proj.stages": {"en": "Release stages", "zh-CN": "发布阶段"},
	"grp.new": {"en": "New gateway group", "zh-CN": "新建网关组"}, "grp.edit_prefix": {"en": "Change prefix", "zh-CN": "修改前缀"},
	"grp.confirm_move": {"en": "Yes, move the URLs of what runs here", "zh-CN": "确认迁移此处运行服务的 URL"},
	"grp.running":      {"en": "What runs here", "zh-CN": "运行中的服务"}, "grp.none_running": {"en": "Nothing runs in this group yet: publish a service to it.", "zh-CN": "该网关组尚无运行的服务：请向其发布服务。"},
	"ups.new": {"en": "New upstream", "zh-CN": "新建上游"}, "ups.empty": {"en": "No upstreams yet. Create one to publish services or run a canary against it.", "zh-CN": "还没有上游。新建一个，用于发布服务或灰度发布。"},

	"svc.add": {"en": "Add Service", "zh-CN": "新建服务"}, "svc.empty": {"en": "No services yet. Add one, or import an OpenAPI document.", "zh-CN": "还没有服务。新建一个，或导入 OpenAPI 文件。"},
	"svc.no_match": {"en": "No service matches the search.", "zh-CN": "没有匹配的服务。"}, "svc.import_hint": {"en": "Have an OpenAPI document? Import it.", "zh-CN": "已有 OpenAPI 文件？直接导入。"},
	"svc.tabs": {"en": "Service", "zh-CN": "服务"}, "svc.lifecycle": {"en": "Lifecycle", "zh-CN": "发布状态"}, "svc.stages": {"en": "Stages", "zh-CN": "发布阶段"},
	"svc.next_patch": {"en": "next patch version", "zh-CN": "下一个补丁版本"}, "svc.runs_nowhere": {"en": "Runs in no gateway group.", "zh-CN": "未在任何网关组运行。"},
	"svc.routes": {"en": "Routes (APIs)", "zh-CN": "API 列表"}, "svc.no_routes": {"en": "No routes yet: add the first one.", "zh-CN": "还没有 API：添加第一个。"},
	"svc.add_route": {"en": "Add Route", "zh-CN": "新建 API"}, "svc.release": {"en": "Releases", "zh-CN": "版本发布"},
	"svc.publish_new": {"en": "Publish New Version", "zh-CN": "发布新版本"}, "svc.sync": {"en": "Sync to Other Gateway Group", "zh-CN": "同步到其他网关组"},
	"svc.versions": {"en": "Versions", "zh-CN": "版本"}, "svc.runs_in": {"en": "Runs in", "zh-CN": "运行于"},
	"svc.no_versions": {"en": "No version yet: publish one.", "zh-CN": "还没有版本：请发布。"}, "svc.history": {"en": "Release history", "zh-CN": "发布历史"},
	"svc.no_history": {"en": "Nothing released yet.", "zh-CN": "尚无发布记录。"}, "svc.delete": {"en": "Delete service", "zh-CN": "删除服务"},
	"sync.from": {"en": "From group", "zh-CN": "源网关组"}, "sync.to": {"en": "To group", "zh-CN": "目标网关组"},
	"tab.overview": {"en": "Overview", "zh-CN": "概览"}, "tab.canary": {"en": "Canary", "zh-CN": "灰度发布"}, "tab.debug": {"en": "Debug", "zh-CN": "调试"},
	"tab.spec": {"en": "Description file", "zh-CN": "描述文件"}, "tab.stats": {"en": "Figures", "zh-CN": "监控"},

	"can.running": {"en": "Canary running", "zh-CN": "灰度发布进行中"}, "can.base": {"en": "base version", "zh-CN": "基础版本"},
	"can.target": {"en": "Target upstream", "zh-CN": "目标上游"}, "can.current": {"en": "Current", "zh-CN": "当前上游"},
	"can.window": {"en": "Window", "zh-CN": "时间窗口"}, "can.side": {"en": "Side", "zh-CN": "流量"},
	"can.set_weight": {"en": "Set weight", "zh-CN": "调整权重"}, "can.promote": {"en": "Full release", "zh-CN": "全量发布"},
	"can.cancel": {"en": "Cancel canary", "zh-CN": "取消灰度"}, "can.new": {"en": "New canary release", "zh-CN": "新建灰度发布"},
	"can.need_upstream": {"en": "Create the target upstream first:", "zh-CN": "请先新建目标上游："}, "can.rule": {"en": "Rule (optional)", "zh-CN": "灰度规则（可选）"},
	"can.rule_header": {"en": "Header name", "zh-CN": "请求头名称"}, "can.rule_value": {"en": "Value", "zh-CN": "值"},
	"can.start": {"en": "Start canary", "zh-CN": "开始灰度"}, "can.past": {"en": "Earlier canaries", "zh-CN": "历史灰度任务"},
	"can.none": {"en": "No earlier canaries.", "zh-CN": "没有历史灰度任务。"},

	"dbg.headers": {"en": "Headers", "zh-CN": "请求头"}, "dbg.body": {"en": "Body", "zh-CN": "请求体"}, "dbg.send": {"en": "Send", "zh-CN": "发送"},
	"dbg.answer": {"en": "Answer", "zh-CN": "响应"},
	"spec.param": {"en": "Parameter", "zh-CN": "参数"}, "spec.in": {"en": "In", "zh-CN": "位置"}, "spec.type": {"en": "Type", "zh-CN": "类型"},
	"spec.responses": {"en": "Responses", "zh-CN": "响应"}, "spec.no_ops": {"en": "The service has no routes to describe yet.", "zh-CN": "该服务还没有可描述的 API。"},
	"spec.download":  {"en": "download", "zh-CN": "下载"},
	"stats.requests": {"en": "Requests", "zh-CN": "请求数"}, "stats.error_rate": {"en": "Error rate", "zh-CN": "错误率"},
	"stats.p50": {"en": "Latency p50", "zh-CN": "延迟 p50"}, "stats.p99": {"en": "Latency p99", "zh-CN": "延迟 p99"},
	"stats.window": {"en": "Window", "zh-CN": "时间窗口"}, "stats.none": {"en": "No traffic seen in this group yet.", "zh-CN": "该网关组尚无流量。"},

	"imp.help": {"en": "Upload or paste an OpenAPI 3.x or Swagger 2.0 document (YAML or JSON). You see what would change before anything does.", "zh-CN": "上传或粘贴 OpenAPI 3.x 或 Swagger 2.0 文件（YAML 或 JSON）。应用前先预览变更。"},
	"imp.file": {"en": "File", "zh-CN": "文件"}, "imp.paste": {"en": "Or paste the document", "zh-CN": "或粘贴文件内容"},
	"imp.preview": {"en": "Preview", "zh-CN": "预览"}, "imp.preview_title": {"en": "What the import will do", "zh-CN": "导入将进行的变更"},
	"imp.create": {"en": "Routes to create", "zh-CN": "新建 API"}, "imp.change": {"en": "Routes to change", "zh-CN": "修改 API"},
	"imp.remove": {"en": "Routes to remove", "zh-CN": "删除 API"}, "imp.unchanged": {"en": "Unchanged", "zh-CN": "未变化"},
	"imp.warnings": {"en": "Warnings", "zh-CN": "警告"}, "imp.apply": {"en": "Apply import", "zh-CN": "确认导入"},

	"app.empty": {"en": "No applications yet. Create one to get credentials.", "zh-CN": "还没有应用。新建一个以获取凭证。"},
	"app.new":   {"en": "New application", "zh-CN": "新建应用"}, "app.project": {"en": "Project (call credentials of a project)", "zh-CN": "项目（项目调用凭证）"},
	"app.secret_once": {"en": "Copy the secret now: it is shown only this once.", "zh-CN": "请立即复制密钥：它只显示这一次。"},
	"app.credentials": {"en": "Credentials", "zh-CN": "凭证"}, "app.hint": {"en": "Identifier", "zh-CN": "标识"},
	"app.no_creds": {"en": "No credentials yet.", "zh-CN": "还没有凭证。"}, "app.new_cred": {"en": "New credential", "zh-CN": "新建凭证"},
	"app.username": {"en": "Username (basic-auth)", "zh-CN": "用户名（basic-auth）"}, "app.access_key": {"en": "Access key (hmac-auth)", "zh-CN": "Access key（hmac-auth）"},
	"app.key":       {"en": "Key (jwt-auth; key-auth: generated when empty)", "zh-CN": "Key（jwt-auth；key-auth 留空自动生成）"},
	"app.client_id": {"en": "Client ID (oauth2)", "zh-CN": "Client ID（oauth2）"},

	"pager": {"en": "Pages", "zh-CN": "分页"}, "pager.prev": {"en": "Previous", "zh-CN": "上一页"}, "pager.next": {"en": "Next", "zh-CN": "下一页"},
	"pager.total": {"en": "in all", "zh-CN": "条"},

	"flash.created": {"en": "Created.", "zh-CN": "已创建。"}, "flash.saved": {"en": "Saved.", "zh-CN": "已保存。"}, "flash.deleted": {"en": "Deleted.", "zh-CN": "已删除。"},
	"flash.published": {"en": "Published.", "zh-CN": "发布成功。"}, "flash.synced": {"en": "Synced.", "zh-CN": "同步成功。"},
	"flash.rolled_back": {"en": "Rolled back.", "zh-CN": "回滚成功。"}, "flash.imported": {"en": "Imported.", "zh-CN": "导入成功。"},
	"flash.action_submit": {"en": "Submitted to the test group.", "zh-CN": "提交成功。"}, "flash.action_withdraw": {"en": "Withdrawn.", "zh-CN": "撤回成功。"},
	"flash.action_publish": {"en": "Published to production.", "zh-CN": "上线成功。"}, "flash.action_disable": {"en": "Disabled.", "zh-CN": "下线成功。"},
	"flash.action_enable": {"en": "Enabled.", "zh-CN": "启用成功。"}, "flash.action_republish": {"en": "Republished.", "zh-CN": "二次发布成功。"},
	"flash.canary_started": {"en": "Canary started.", "zh-CN": "灰度发布已开始。"}, "flash.canary_weight": {"en": "Weight changed.", "zh-CN": "权重已调整。"},
	"flash.canary_cancel": {"en": "Canary cancelled.", "zh-CN": "灰度已取消。"}, "flash.canary_promote": {"en": "Full release done.", "zh-CN": "全量发布完成。"},
	"flash.secret_once": {"en": "Credential created.", "zh-CN": "凭证已创建。"},
}

func hasKey(key string) bool { _, ok := messages[key]; return ok }

// translate answers key in lang, else in English, else the key itself (a
// missing key shows up on the page instead of breaking it).
func translate(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if s, ok := m[lang]; ok {
		return s
	}
	return m["en"]
}
