package console

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/portico-gw/portico/internal/webpage"
)

// errorMessages say an admin API refusal in the user's language, keyed by
// the problem's code ("problem.conflict") and a field error's reason code
// ("reason.required"). The API's own detail is English and written for
// scripts (ids, JSON paths, the store's words); the console shows these
// instead and keeps the field paths, so the user still sees which field.
var errorMessages = webpage.Catalogue{
	"problem.invalid_field":      {"en": "Some fields need correcting: each message is beside its field or listed below.", "zh-CN": "部分字段需要更正：提示显示在对应字段旁，或列在下方。"},
	"problem.not_found":          {"en": "What this asks for does not exist (any more): it may have been deleted or renamed.", "zh-CN": "请求的对象不存在（或已不存在）：可能已被删除或改名。"},
	"problem.conflict":           {"en": "This conflicts with what exists: the name is taken, the object is still in use, or someone changed it meanwhile. Check and try again.", "zh-CN": "与现有数据冲突：名称已被占用、对象仍在使用中，或已被他人修改。请检查后重试。"},
	"problem.invalid_state":      {"en": "The service's current state does not allow this action.", "zh-CN": "服务当前的状态不允许此操作。"},
	"problem.forbidden":          {"en": "Your role does not allow this.", "zh-CN": "你的角色不允许此操作。"},
	"problem.unauthorized":       {"en": "Your session has ended: log in again.", "zh-CN": "会话已失效，请重新登录。"},
	"problem.rate_limited":       {"en": "Too many attempts: wait a moment and try again.", "zh-CN": "尝试次数过多，请稍候再试。"},
	"problem.unavailable":        {"en": "The database is unavailable right now and nothing was changed. Try again in a moment.", "zh-CN": "数据库暂时不可用，未做任何更改。请稍后重试。"},
	"problem.too_large":          {"en": "What was sent is too large.", "zh-CN": "提交的内容过大。"},
	"problem.method_not_allowed": {"en": "This action is not available here.", "zh-CN": "此处不支持该操作。"},
	"problem.internal":           {"en": "The request failed; it has been logged.", "zh-CN": "请求失败，已记录日志。"},

	"reason.required":         {"en": "is required", "zh-CN": "必填"},
	"reason.too_long":         {"en": "is too long", "zh-CN": "过长"},
	"reason.too_long_n":       {"en": "is too long (at most %s)", "zh-CN": "过长（最多 %s）"},
	"reason.too_short_n":      {"en": "is too short (at least %s characters)", "zh-CN": "过短（至少 %s 个字符）"},
	"reason.out_of_range":     {"en": "is out of range", "zh-CN": "超出允许的范围"},
	"reason.out_of_range_n":   {"en": "must be between %s and %s", "zh-CN": "须在 %s 到 %s 之间"},
	"reason.not_allowed":      {"en": "is not a value allowed here", "zh-CN": "不是此处允许的值"},
	"reason.not_allowed_list": {"en": "must be one of %s", "zh-CN": "须为以下之一：%s"},
	"reason.unknown_field":    {"en": "is not a field this accepts", "zh-CN": "不是可接受的字段"},
	"reason.duplicate":        {"en": "is given more than once", "zh-CN": "重复出现"},
	"reason.malformed":        {"en": "could not be read: it is malformed", "zh-CN": "格式不正确，无法读取"},
	"reason.not_found":        {"en": "names something that does not exist", "zh-CN": "引用的对象不存在"},

	"err.fields":        {"en": "Fields to correct", "zh-CN": "需要更正的字段"},
	"err.server_detail": {"en": "The server's own words", "zh-CN": "服务器的原始说明（英文）"},
}

var errorsOverridden []string

func init() { errorsOverridden = messages.Add(errorMessages) }

var numberRe = regexp.MustCompile(`\d+(\.\d+)?`)

// problemText is the user's-language message of a problem code; false
// for a code the console does not know, whose API detail is shown as is.
func problemText(lang, code string) (string, bool) {
	if code == "" || !messages.Has("problem."+code) {
		return "", false
	}
	return messages.Text(lang, "problem."+code), true
}

// fieldText is a field error's message in the user's language. The limits
// a validator states (64, 1 and 65535, a list of values) are kept: they
// are numbers and names, the same in every language. A reason the console
// does not know ("invalid": the validator's sentence is the reason) falls
// back to the API's message.
func fieldText(lang string, fe webpage.FieldProblem) string {
	nums := numberRe.FindAllString(fe.Message, -1)
	switch fe.Code {
	case "too_long":
		if len(nums) > 0 {
			return fmt.Sprintf(messages.Text(lang, "reason.too_long_n"), nums[0])
		}
	case "too_short":
		if len(nums) > 0 {
			return fmt.Sprintf(messages.Text(lang, "reason.too_short_n"), nums[0])
		}
	case "out_of_range":
		if len(nums) == 2 && strings.Contains(fe.Message, "between") {
			return fmt.Sprintf(messages.Text(lang, "reason.out_of_range_n"), nums[0], nums[1])
		}
	case "not_allowed":
		if _, list, ok := strings.Cut(fe.Message, "one of "); ok {
			return fmt.Sprintf(messages.Text(lang, "reason.not_allowed_list"), list)
		}
	}
	if fe.Code == "" || !messages.Has("reason."+fe.Code) {
		return fe.Message
	}
	return messages.Text(lang, "reason."+fe.Code)
}

// localizeRefusal puts an admin API refusal in the user's language in
// place, so every page that shows one (the banner, a field's message)
// shows the translation, and returns it; the API's detail is kept in
// APIDetail. A refusal without a code is one a page made itself, already
// in the user's language: nil.
func localizeRefusal(lang string, err error) *webpage.Refusal {
	var ae *webpage.Refusal
	if !errors.As(err, &ae) || ae.Code == "" {
		return nil
	}
	if msg, ok := problemText(lang, ae.Code); ok && msg != ae.Detail {
		ae.APIDetail, ae.Detail = ae.Detail, msg
	}
	problems := make([]webpage.FieldProblem, len(ae.Problems))
	for i, fe := range ae.Problems {
		problems[i] = webpage.FieldProblem{Field: fe.Field, Message: fieldText(lang, fe), Code: fe.Code}
	}
	ae.SetFields(problems)
	return ae
}
