"""The error page a failed request shows."""

from __future__ import annotations

from layouts.i18n.labels import Text

TEXTS: dict[str, Text] = {
    "error.reference": {"zh": "错误编号：{id}（请告知管理员）",
                        "en": "Reference: {id} (give it to the administrator)"},
    "error.title": {"zh": "出错了", "en": "Something went wrong"},
    "error.internal": {
        "zh": "服务器处理此请求时出错。请稍后重试；如仍出错，请将编号 {id} 告知管理员。",
        "en": "The server failed to answer this request. Try again shortly; if it fails again, give the "
              "administrator the reference {id}.",
    },
}
