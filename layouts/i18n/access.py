"""Sign-in, screen pairing and the administration pages (people, screens, audit trail)."""

from __future__ import annotations

from layouts.i18n.labels import FILTERS, FROM, RESULT, SIGN_IN, STATE, TO, Text

TEXTS: dict[str, Text] = {
    "auth.title": SIGN_IN,
    "auth.cas": {"zh": "统一身份认证登录", "en": "Sign in with campus identity (CAS)"},
    "auth.oidc": {"zh": "统一身份认证登录（OIDC）", "en": "Sign in with campus identity (OpenID Connect)"},
    "auth.or_local": {"zh": "或使用本地账户", "en": "or use a local account"},
    "auth.username": {"zh": "用户名", "en": "User name"},
    "auth.password": {"zh": "密码", "en": "Password"},
    "auth.otp": {"zh": "动态验证码", "en": "One-time code"},
    "auth.otp_hint": {
        "zh": "运维、安全管理员和审计员账户必填：验证器应用中的 6 位数字",
        "en": "Required for operators, security administrators and auditors: the 6 digits in your "
              "authenticator app",
    },
    "auth.sign_in": SIGN_IN,
    "auth.sign_out": {"zh": "退出登录", "en": "Sign out"},
    "auth.signed_in_as": {"zh": "当前已登录：{name}", "en": "Signed in as {name}"},
    "auth.failed": {
        "zh": "用户名、密码或动态验证码不正确，或账户已被暂时锁定。请检查后重试；连续失败 5 次将锁定 15 分钟"
              "。",
        "en": "The user name, password or one-time code is not right, or the account is locked for a while. "
              "Check them and try again; 5 failures in a row lock it for 15 minutes.",
    },
    "auth.too_large": {
        "zh": "提交的表单过大，请只填写用户名、密码和动态验证码。",
        "en": "The form sent is too large; fill in only the user name, password and code.",
    },
    "auth.too_many": {
        "zh": "登录尝试过于频繁，请一分钟后再试。",
        "en": "Too many sign-in attempts from this address; try again in a minute.",
    },
    "auth.link_used": {
        "zh": "该登录链接无效、已使用或已过期（有效期 15 分钟）。请重新运行启动命令获取新链接，或使用账户登"
              "录。",
        "en": "This sign-in link is unknown, used or expired (links last 15 minutes). Run the start command "
              "again for a new one, or sign in with an account.",
    },
    "auth.refused_title": {"zh": "无权访问", "en": "Not allowed"},
    "auth.refused": {
        "zh": "您的角色不能打开此页面。如需访问，请联系系统管理员分配相应角色。以下是您可以打开的页面：",
        "en": "Your roles do not open this page. Ask your administrator for a role that does. These are the "
              "pages you may open:",
    },
    "auth.no_role_title": {"zh": "尚未分配角色", "en": "No role yet"},
    "auth.no_role": {
        "zh": "{name}，您的身份已通过认证，但还没有分配 IOC 角色。请联系网络中心的安全管理员为您分配角色。",
        "en": "{name}, your identity is confirmed, but you hold no IOC role yet. Ask the network center's "
              "security administrator to give you one.",
    },
    "auth.sso_failed_title": {"zh": "统一身份认证未完成", "en": "Campus sign-in did not complete"},
    "auth.sso_failed": {
        "zh": "身份认证服务的应答无效或已过期，请重新登录。",
        "en": "The identity provider's answer was not valid or has expired; sign in again.",
    },
    "auth.sso_not_configured": {
        "zh": "本系统未配置该统一身份认证方式，请使用登录页上的其他登录方式。",
        "en": "This campus sign-in is not set up here; use another way on the sign-in page.",
    },
    "auth.sso_needs_local": {
        "zh": "{name}，您的角色（{roles}）须使用本地账户和动态验证码登录，不能通过统一身份认证登录。"
              "请在登录页填写账户、密码和动态验证码。",
        "en": "{name}, your roles ({roles}) sign in with a local account and a one-time code, not "
              "through campus sign-in. Use the form on the sign-in page.",
    },
    "auth.revoked_title": {"zh": "此屏幕已被撤销", "en": "This screen was revoked"},
    "auth.revoked": {
        "zh": "运维人员已撤销此屏幕的授权。如需继续显示，请在运维管理页面重新配对。",
        "en": "An operator revoked this screen. To show pages again, pair it anew with an operator.",
    },
    "pair.title": {"zh": "屏幕配对", "en": "Pair this screen"},
    "pair.explain": {
        "zh": "此屏幕尚未配对。请运维人员在“屏幕管理”页面输入下面的配对码，并为屏幕命名、选择轮播页面。",
        "en": "This screen is not paired yet. An operator enters the code below on the screens page, names "
              "the screen and picks its pages.",
    },
    "pair.waiting": {
        "zh": "等待批准…（配对码 10 分钟内有效）",
        "en": "Waiting for approval… (the code lasts 10 minutes)",
    },
    "pair.expired": {
        "zh": "配对码已过期，正在生成新的配对码…",
        "en": "The code expired; a new one is coming…",
    },
    "pair.sign_in_instead": {"zh": "我是工作人员，登录后查看", "en": "I am staff: sign in instead"},
    "pair.bad_code": {
        "zh": "配对码无效、已使用或已过期。请在屏幕上重新获取配对码。",
        "en": "The pairing code is unknown, used or expired. Open /wall on the screen for a new one.",
    },
    "pair.again": {"zh": "重新配对", "en": "Pair again"},
    "admin.people": {"zh": "人员与角色", "en": "People and roles"},
    "admin.screens": {"zh": "屏幕管理", "en": "Screens"},
    "admin.audit": {"zh": "审计日志", "en": "Audit trail"},
    "admin.approve_title": {"zh": "批准配对码", "en": "Approve a pairing code"},
    "admin.code": {"zh": "配对码", "en": "Code"},
    "admin.screen_name": {"zh": "屏幕名称", "en": "Screen name"},
    "admin.pages": {"zh": "轮播页面", "en": "Pages"},
    "admin.approve": {"zh": "批准", "en": "Approve"},
    "admin.paired": {"zh": "已配对屏幕", "en": "Paired screens"},
    "admin.state": STATE,
    "admin.active": {"zh": "有效", "en": "Active"},
    "admin.revoked": {"zh": "已撤销", "en": "Revoked"},
    "admin.revoke": {"zh": "撤销", "en": "Revoke"},
    "admin.none": {"zh": "暂无", "en": "None yet"},
    "admin.unknown_action": {
        "zh": "未知操作，请使用页面上的按钮。",
        "en": "Unknown action; use the page's buttons.",
    },
    "admin.screen_approved": {
        "zh": "屏幕 {name} 已批准，几秒内将开始显示。",
        "en": "Screen {name} approved; it starts showing in a few seconds.",
    },
    "admin.screen_revoked": {
        "zh": "屏幕 {name} 已撤销，一分钟内将显示撤销页面。",
        "en": "Screen {name} revoked; it shows the revoked page within a minute.",
    },
    "admin.person": {"zh": "人员", "en": "Person"},
    "admin.roles": {"zh": "角色", "en": "Roles"},
    "admin.save": {"zh": "保存", "en": "Save"},
    "admin.roles_saved": {
        "zh": "{name} 的角色已更新，立即生效。",
        "en": "Roles of {name} updated; in force now.",
    },
    "admin.mappings": {"zh": "身份属性映射", "en": "Mappings from identity attributes"},
    "admin.mappings_hint": {
        "zh": "每行一条：属性=值 -> 角色1,角色2（例如 memberOf=ioc-leaders -> viewer）",
        "en": "One per line: attribute=value -> role1,role2 (e.g. memberOf=ioc-leaders -> viewer)",
    },
    "admin.mappings_saved": {"zh": "映射已更新，立即生效。", "en": "Mappings updated; in force now."},
    "admin.local_account": {"zh": "本地账户", "en": "Local account"},
    "admin.filters": FILTERS,
    "admin.from": FROM,
    "admin.to": TO,
    "admin.user": {"zh": "操作者", "en": "Who"},
    "admin.action": {"zh": "操作", "en": "Action"},
    "admin.apply": {"zh": "查询", "en": "Show"},
    "admin.csv": {"zh": "导出 CSV", "en": "Download CSV"},
    "admin.col.ts": {"zh": "时间", "en": "Time"},
    "admin.col.address": {"zh": "来源地址", "en": "Address"},
    "admin.col.object": {"zh": "对象", "en": "Object"},
    "admin.col.result": RESULT,
    "admin.col.detail": {"zh": "详情", "en": "Detail"},
    "admin.limit": {"zh": "条数", "en": "Rows"},
    "admin.audit_hint": {
        "zh": "时间可写日期（2025-05-01，按 {zone} 整天）或 RFC 3339 时间；不填为最近 7 天。操作可用前缀加 *"
              "（如 screen.*）。按时间倒序。",
        "en": "Times: a date (2025-05-01, the whole day in {zone}) or an RFC 3339 time; empty = the last 7 "
              "days. Actions: exact, or a prefix with * (screen.*). Newest first.",
    },
    "admin.audit_count": {"zh": "共 {n} 条（按时间倒序）", "en": "{n} rows (newest first)"},
    "admin.audit_unavailable": {
        "zh": "数据存储暂时不可用，请稍后重试。",
        "en": "The store is unreachable; try again shortly.",
    },
}
