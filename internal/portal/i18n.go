package portal

// messages is the portal's catalogue: key → language → text. Every key
// has English and Simplified Chinese (TestCatalogueComplete checks it, and
// that every key a template or handler names exists). The Chinese follows
// the console's wording (应用, 凭证, 订阅, 审批).
var messages = map[string]map[string]string{
	"nav.skip": {"en": "Skip to content", "zh-CN": "跳到正文"}, "nav.main": {"en": "Main", "zh-CN": "主导航"},
	"nav.catalog": {"en": "API catalog", "zh-CN": "API 目录"}, "nav.apps": {"en": "My applications", "zh-CN": "我的应用"},
	"nav.subs": {"en": "My subscriptions", "zh-CN": "我的订阅"}, "nav.requests": {"en": "My requests", "zh-CN": "我的申请"},
	"nav.signout": {"en": "Sign out", "zh-CN": "退出登录"}, "nav.lang": {"en": "Language", "zh-CN": "语言"},
	"nav.signed_in": {"en": "Signed in as", "zh-CN": "当前用户"},

	"signin.title": {"en": "Sign in", "zh-CN": "登录"}, "signin.username": {"en": "Username", "zh-CN": "用户名"},
	"signin.password": {"en": "Password", "zh-CN": "密码"}, "signin.submit": {"en": "Sign in", "zh-CN": "登录"},
	"signin.failed":    {"en": "Wrong username or password.", "zh-CN": "用户名或密码错误。"},
	"signin.expired":   {"en": "Your session has ended; please sign in again.", "zh-CN": "会话已结束，请重新登录。"},
	"signin.throttled": {"en": "Too many failed attempts. Try again in %s seconds.", "zh-CN": "失败次数过多，请在 %s 秒后重试。"},
	"signin.stale":     {"en": "The form has expired or came from another site. Please try again.", "zh-CN": "表单已过期或来自其他站点，请重试。"},
	"signin.or":        {"en": "or", "zh-CN": "或"}, "signin.sso": {"en": "Sign in with single sign-on", "zh-CN": "使用单点登录"},
	"signin.no_account": {"en": "No account yet?", "zh-CN": "还没有账号？"},
	"signup.title":      {"en": "Create an account", "zh-CN": "注册账号"}, "signup.submit": {"en": "Create account", "zh-CN": "注册"},
	"signup.email": {"en": "Email", "zh-CN": "邮箱"}, "signup.display_name": {"en": "Display name (optional)", "zh-CN": "显示名称（可选）"},
	"signup.password2": {"en": "Password again", "zh-CN": "再次输入密码"},
	"signup.mismatch":  {"en": "The two passwords differ.", "zh-CN": "两次输入的密码不一致。"},
	"signup.off":       {"en": "Sign-up is not open on this portal; ask an administrator for an account.", "zh-CN": "本门户未开放注册，请联系管理员开通账号。"},
	"signup.have":      {"en": "Already have an account?", "zh-CN": "已有账号？"},
	"signup.pw_hint":   {"en": "At least 12 characters.", "zh-CN": "至少 12 个字符。"},

	"err.title": {"en": "Something went wrong", "zh-CN": "出错了"}, "err.csrf": {"en": "This form is stale or came from another site (CSRF check failed). Reload the page and try again.", "zh-CN": "表单已过期或来自其他站点（CSRF 校验失败），请刷新页面后重试。"},
	"err.form":      {"en": "The form could not be read.", "zh-CN": "无法读取表单。"},
	"err.internal":  {"en": "The request failed; it has been logged.", "zh-CN": "请求失败，已记录日志。"},
	"err.not_found": {"en": "There is no such page.", "zh-CN": "页面不存在。"},
	"err.back":      {"en": "Back to the catalog", "zh-CN": "返回 API 目录"},

	"cat.intro":  {"en": "APIs you can subscribe to. Search by name, or narrow by tag and folder.", "zh-CN": "可订阅的 API。按名称搜索，或按标签和目录筛选。"},
	"cat.search": {"en": "Search by name or description", "zh-CN": "按名称或描述搜索"}, "cat.tag": {"en": "Tag", "zh-CN": "标签"},
	"cat.folder": {"en": "Folder", "zh-CN": "目录"}, "cat.any": {"en": "Any", "zh-CN": "全部"}, "cat.apply": {"en": "Search", "zh-CN": "搜索"},
	"cat.clear": {"en": "Clear filters", "zh-CN": "清除筛选"}, "cat.empty": {"en": "No API is listed yet.", "zh-CN": "目前还没有上架的 API。"},
	"cat.no_match": {"en": "No API matches these filters.", "zh-CN": "没有符合筛选条件的 API。"},
	"cat.results":  {"en": "APIs found:", "zh-CN": "找到的 API："}, "cat.versions": {"en": "Versions", "zh-CN": "版本"},
	"cat.open": {"en": "Open", "zh-CN": "查看"}, "cat.plans": {"en": "Plans:", "zh-CN": "套餐："},

	"f.name": {"en": "Name", "zh-CN": "名称"}, "f.description": {"en": "Description", "zh-CN": "描述"},
	"f.project": {"en": "Project", "zh-CN": "项目"}, "f.created": {"en": "Created", "zh-CN": "创建时间"},
	"f.updated": {"en": "Updated", "zh-CN": "更新时间"}, "f.state": {"en": "State", "zh-CN": "状态"},
	"f.type": {"en": "Type", "zh-CN": "类型"}, "f.group": {"en": "Gateway group", "zh-CN": "网关组"},
	"f.version": {"en": "Version", "zh-CN": "版本"}, "f.api": {"en": "API", "zh-CN": "API"}, "f.app": {"en": "Application", "zh-CN": "应用"},
	"f.plan": {"en": "Plan", "zh-CN": "套餐"}, "f.comment": {"en": "Comment", "zh-CN": "备注"},
	"f.kind": {"en": "Request", "zh-CN": "申请类型"}, "f.time": {"en": "Time", "zh-CN": "时间"}, "f.by": {"en": "By", "zh-CN": "操作人"},
	"f.action": {"en": "Action", "zh-CN": "操作"}, "f.usage": {"en": "Usage", "zh-CN": "用量"}, "f.urls": {"en": "Call URLs", "zh-CN": "调用地址"},

	"act.copy": {"en": "Copy", "zh-CN": "复制"}, "act.copy_url": {"en": "Copy URL", "zh-CN": "复制地址"}, "act.copied": {"en": "Copied", "zh-CN": "已复制"},
	"act.create": {"en": "Create", "zh-CN": "创建"}, "act.delete": {"en": "Delete", "zh-CN": "删除"}, "act.confirm": {"en": "Yes, do it", "zh-CN": "确认"},
	"act.rotate": {"en": "Rotate", "zh-CN": "轮换"}, "act.unsubscribe": {"en": "Unsubscribe", "zh-CN": "取消订阅"},
	"act.cancel_request": {"en": "Withdraw request", "zh-CN": "撤回申请"}, "act.details": {"en": "Details", "zh-CN": "详情"},
	"act.filter": {"en": "Filter", "zh-CN": "筛选"}, "act.prev": {"en": "Previous", "zh-CN": "上一页"}, "act.next": {"en": "Next", "zh-CN": "下一页"},
	"pager": {"en": "Pages", "zh-CN": "分页"}, "pager.of": {"en": "of", "zh-CN": "/"},

	"api.contents": {"en": "On this page", "zh-CN": "本页目录"}, "api.docs": {"en": "Documentation", "zh-CN": "接口文档"},
	"api.no_doc":        {"en": "This API has no description document.", "zh-CN": "该 API 没有描述文件。"},
	"api.no_ops":        {"en": "The document describes no operations.", "zh-CN": "描述文件中没有接口。"},
	"api.capped":        {"en": "The document is large: parts of it are cut short on this page.", "zh-CN": "描述文件较大，本页省略了部分内容。"},
	"api.default_group": {"en": "Other operations", "zh-CN": "其他接口"}, "api.deprecated": {"en": "deprecated", "zh-CN": "已废弃"},
	"api.params": {"en": "Parameters", "zh-CN": "参数"}, "api.in": {"en": "In", "zh-CN": "位置"}, "api.required": {"en": "required", "zh-CN": "必填"},
	"api.optional": {"en": "optional", "zh-CN": "可选"}, "api.required_h": {"en": "Required", "zh-CN": "是否必填"}, "api.example": {"en": "Example", "zh-CN": "示例"},
	"api.body": {"en": "Request body", "zh-CN": "请求体"}, "api.responses": {"en": "Responses", "zh-CN": "响应"},
	"api.schema": {"en": "Schema", "zh-CN": "结构"}, "api.try_op": {"en": "Try this operation", "zh-CN": "调试此接口"},
	"api.runs": {"en": "Where to call it", "zh-CN": "调用地址"}, "api.stage_production": {"en": "production", "zh-CN": "生产"},
	"api.stage_test": {"en": "test", "zh-CN": "测试"}, "api.no_public": {"en": "This group has no public URL yet: the paths are on its gateways' address.", "zh-CN": "该网关组尚未配置公网地址：以下路径位于其网关地址上。"},
	"api.not_running":    {"en": "Not running in any gateway group right now.", "zh-CN": "当前未在任何网关组运行。"},
	"api.listed_version": {"en": "Documented version", "zh-CN": "文档版本"}, "api.auto_approve": {"en": "Subscriptions are approved at once.", "zh-CN": "订阅申请自动通过。"},
	"api.review": {"en": "Subscriptions are reviewed by the API's owners.", "zh-CN": "订阅申请需 API 所有者审批。"},

	"schema.cycle": {"en": "refers to itself (shown above)", "zh-CN": "循环引用（见上层）"}, "schema.depth": {"en": "nested deeper than shown", "zh-CN": "嵌套过深，未展开"},
	"schema.limit": {"en": "not shown (document too large)", "zh-CN": "未显示（描述文件过大）"}, "schema.external": {"en": "defined outside this document", "zh-CN": "定义在本文件之外"},
	"schema.oneOf": {"en": "one of", "zh-CN": "以下之一"}, "schema.anyOf": {"en": "any of", "zh-CN": "以下任意"},
	"schema.read_only": {"en": "read-only", "zh-CN": "只读"}, "schema.write_only": {"en": "write-only", "zh-CN": "只写"},
	"schema.enum": {"en": "one of", "zh-CN": "取值"}, "schema.default": {"en": "default", "zh-CN": "默认"},

	"plan.title": {"en": "Plans", "zh-CN": "套餐"}, "plan.none": {"en": "This API offers no plans: a subscription has no quota beyond the API's own limits.", "zh-CN": "该 API 未提供套餐：订阅不设额外配额。"},
	"plan.unlimited": {"en": "no quota", "zh-CN": "不限配额"}, "plan.quotas": {"en": "Quotas", "zh-CN": "配额"},

	"sub.title": {"en": "Subscribe", "zh-CN": "订阅"}, "sub.mine": {"en": "Your subscriptions to this API", "zh-CN": "你对该 API 的订阅"},
	"sub.none": {"en": "None of your applications subscribes to this API yet.", "zh-CN": "你的应用尚未订阅该 API。"},
	"sub.app":  {"en": "Application", "zh-CN": "应用"}, "sub.new_app": {"en": "Or create a new application named", "zh-CN": "或新建应用，名称"},
	"sub.pick_app":     {"en": "Pick an application or name a new one.", "zh-CN": "请选择应用或填写新应用名称。"},
	"sub.comment_hint": {"en": "What you will use it for (sent to the approvers)", "zh-CN": "用途说明（发送给审批人）"},
	"sub.submit":       {"en": "Subscribe", "zh-CN": "申请订阅"}, "sub.all_subscribed": {"en": "Every one of your applications already subscribes or waits for approval.", "zh-CN": "你的所有应用都已订阅或正在等待审批。"},
	"sub.pending_note":   {"en": "Already requested: waiting for approval.", "zh-CN": "已申请，等待审批。"},
	"sub.approved_note":  {"en": "Approved: calls with this application's credentials are admitted.", "zh-CN": "已通过：使用该应用的凭证即可调用。"},
	"sub.rejected_note":  {"en": "Rejected: you may apply again.", "zh-CN": "已拒绝：可以重新申请。"},
	"sub.cancelled_note": {"en": "Cancelled: you may apply again.", "zh-CN": "已取消：可以重新申请。"},
	"sub.list_empty":     {"en": "You have no subscriptions yet. Find an API in the catalog.", "zh-CN": "你还没有订阅。去 API 目录看看。"},
	"sub.resets":         {"en": "resets", "zh-CN": "重置于"}, "sub.no_limit": {"en": "no limit", "zh-CN": "不限"},
	"sub.not_counted": {"en": "Not counted yet: no gateway of this API's group reports usage here.", "zh-CN": "暂无统计：该 API 所在网关组尚未上报用量。"},
	"sub.no_usage":    {"en": "—", "zh-CN": "—"}, "sub.used_of": {"en": "used of", "zh-CN": "已用 / 上限"},

	"try.title": {"en": "Try it", "zh-CN": "在线调试"}, "try.help": {"en": "Sends a request through this API's test gateway group. Put your credential in the headers (for a key: apikey).", "zh-CN": "通过该 API 的测试网关组发送请求。请在请求头中携带你的凭证（密钥：apikey）。"},
	"try.method": {"en": "Method", "zh-CN": "方法"}, "try.path": {"en": "Path (under the API's URL, may carry ?query)", "zh-CN": "路径（API 地址之下，可带 ?查询参数）"},
	"try.apikey":  {"en": "Key (sent as the apikey header)", "zh-CN": "密钥（作为 apikey 请求头发送）"},
	"try.headers": {"en": "Other headers, one per line: Name: value", "zh-CN": "其他请求头，每行一个：名称: 值"},
	"try.body":    {"en": "Body", "zh-CN": "请求体"}, "try.send": {"en": "Send", "zh-CN": "发送"},
	"try.answer": {"en": "Answer", "zh-CN": "响应"}, "try.status": {"en": "Status", "zh-CN": "状态码"},
	"try.latency": {"en": "Latency", "zh-CN": "耗时"}, "try.truncated": {"en": "The body was cut short.", "zh-CN": "响应体过长，已截断。"},
	"try.bad_header":   {"en": "This header line is not Name: value:", "zh-CN": "该请求头格式应为 名称: 值："},
	"try.resp_headers": {"en": "Headers", "zh-CN": "响应头"},

	"app.intro": {"en": "An application holds the credentials your code calls APIs with, and subscribes to APIs.", "zh-CN": "应用持有调用 API 所用的凭证，并以应用身份订阅 API。"},
	"app.empty": {"en": "No applications yet. Create one to get credentials.", "zh-CN": "还没有应用。新建一个以获取凭证。"},
	"app.new":   {"en": "New application", "zh-CN": "新建应用"}, "app.delete_confirm": {"en": "Delete this application, its credentials and its subscriptions?", "zh-CN": "删除该应用及其全部凭证和订阅？"},
	"app.project_owned": {"en": "project credentials", "zh-CN": "项目凭证"},
	"cred.title":        {"en": "Credentials", "zh-CN": "凭证"}, "cred.none": {"en": "No credentials yet: make one below.", "zh-CN": "还没有凭证：在下方新建。"},
	"cred.ident": {"en": "Identifier", "zh-CN": "标识"}, "cred.expires": {"en": "Expires", "zh-CN": "过期时间"},
	"cred.new":           {"en": "New credential", "zh-CN": "新建凭证"},
	"cred.secret_once":   {"en": "Copy the secret now: it is shown only this once and cannot be shown again. If you lose it, rotate the credential.", "zh-CN": "请立即复制密钥：它只显示这一次，之后无法再次查看。如果丢失，请轮换该凭证。"},
	"cred.secret_title":  {"en": "Your new secret", "zh-CN": "新密钥"},
	"cred.key_auth_help": {"en": "Send the key in the apikey header (or ?apikey=).", "zh-CN": "在 apikey 请求头（或 ?apikey= 参数）中发送密钥。"},
	"cred.basic_help":    {"en": "Send Authorization: Basic with the username and password.", "zh-CN": "以 Authorization: Basic 发送用户名和密码。"},
	"cred.hmac_help":     {"en": "Sign requests with the secret key; the access key names it.", "zh-CN": "用 secret key 签名请求，access key 标识凭证。"},
	"cred.jwt_help":      {"en": "Sign tokens with the secret (HS256) and put the key in their key claim.", "zh-CN": "用密钥签发令牌（HS256），并在 key 声明中填写 key。"},
	"cred.key":           {"en": "Key (left empty: generated)", "zh-CN": "密钥（留空自动生成）"},
	"cred.username":      {"en": "Username", "zh-CN": "用户名"}, "cred.access_key": {"en": "Access key (left empty: generated)", "zh-CN": "Access key（留空自动生成）"},
	"cred.jwt_key":   {"en": "Key claim (left empty: generated)", "zh-CN": "key 声明（留空自动生成）"},
	"cred.algorithm": {"en": "Algorithm", "zh-CN": "算法"}, "cred.public_key": {"en": "Public key, PEM (RS256, ES256 only)", "zh-CN": "公钥 PEM（仅 RS256、ES256）"},
	"cred.rotate_help": {"en": "A new secret for the same identifier; the old one keeps working for", "zh-CN": "为同一标识生成新密钥；旧密钥继续有效"},
	"cred.overlap_0":   {"en": "no time (revoke now)", "zh-CN": "立即失效"}, "cred.overlap_1h": {"en": "1 hour", "zh-CN": "1 小时"},
	"cred.overlap_1d": {"en": "1 day", "zh-CN": "1 天"}, "cred.bad_overlap": {"en": "The overlap must be a number of seconds.", "zh-CN": "重叠时间必须是秒数。"},
	"cred.delete_confirm": {"en": "Revoke this credential? Calls with it stop at once.", "zh-CN": "吊销该凭证？使用它的调用将立即失败。"},
	"cred.subs":           {"en": "Subscriptions of this application", "zh-CN": "该应用的订阅"},

	"req.intro": {"en": "Requests you made and what became of them.", "zh-CN": "你提交的申请及其处理结果。"},
	"req.empty": {"en": "No requests.", "zh-CN": "没有申请。"}, "req.history": {"en": "History", "zh-CN": "处理记录"},
	"req.cancel_help": {"en": "Withdraw this request? Nothing is granted; you may apply again later.", "zh-CN": "撤回该申请？撤回后不会授予访问，之后可以重新申请。"},
	"req.title":       {"en": "Request", "zh-CN": "申请"},

	"kind.subscription": {"en": "Subscription", "zh-CN": "订阅"}, "kind.listing": {"en": "Listing", "zh-CN": "上架"}, "kind.delisting": {"en": "Delisting", "zh-CN": "下架"},
	"state.pending": {"en": "Pending approval", "zh-CN": "待审批"}, "state.approved": {"en": "Approved", "zh-CN": "已通过"},
	"state.rejected": {"en": "Rejected", "zh-CN": "已拒绝"}, "state.cancelled": {"en": "Cancelled", "zh-CN": "已取消"},
	"state.requested": {"en": "Requested", "zh-CN": "已提交"},
	"period.second":   {"en": "second", "zh-CN": "秒"}, "period.minute": {"en": "minute", "zh-CN": "分钟"}, "period.hour": {"en": "hour", "zh-CN": "小时"},
	"period.day": {"en": "day", "zh-CN": "天"}, "period.month": {"en": "month", "zh-CN": "月"},

	"flash.created": {"en": "Created.", "zh-CN": "已创建。"}, "flash.deleted": {"en": "Deleted.", "zh-CN": "已删除。"},
	"flash.requested":    {"en": "Requested: the API's owners will review it. See My requests.", "zh-CN": "已提交申请，等待 API 所有者审批。可在“我的申请”查看。"},
	"flash.subscribed":   {"en": "Subscribed: your application may call this API now.", "zh-CN": "订阅成功：你的应用现在可以调用该 API。"},
	"flash.unsubscribed": {"en": "Unsubscribed.", "zh-CN": "已取消订阅。"}, "flash.cancelled": {"en": "Request withdrawn.", "zh-CN": "申请已撤回。"},
	"flash.cred_created": {"en": "Credential created.", "zh-CN": "凭证已创建。"}, "flash.cred_rotated": {"en": "Credential rotated.", "zh-CN": "凭证已轮换。"},
	"flash.cred_deleted": {"en": "Credential revoked.", "zh-CN": "凭证已吊销。"},
	"flash.welcome":      {"en": "Welcome! Create an application to get credentials, then subscribe to APIs.", "zh-CN": "欢迎！先新建应用获取凭证，再订阅 API。"},
}

func hasKey(key string) bool { _, ok := messages[key]; return ok }

// translate answers key in lang, else in English, else the key itself (a
// missing key shows on the page instead of breaking it; the catalogue
// test catches it first).
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
