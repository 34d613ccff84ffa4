//! The serde shapes of Tencent's JSON answers.

use serde::Deserialize;

/// The fields every answer carries. `ErrorCode` is required; the rest are optional in practice.
#[derive(Debug, Deserialize)]
pub(crate) struct Base<R> {
    #[serde(rename = "ActionStatus", default)]
    pub(crate) action_status: Option<String>,
    #[serde(rename = "ErrorCode")]
    pub(crate) error_code: i64,
    #[serde(rename = "ErrorInfo", default)]
    pub(crate) error_info: Option<String>,
    #[serde(rename = "RequestId", default)]
    pub(crate) request_id: Option<String>,
    #[serde(rename = "Response", default = "none")]
    pub(crate) response: Option<R>,
}

fn none<R>() -> Option<R> {
    None
}

/// `Response` of `get_callback_token`.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenConfig {
    #[serde(rename = "Token", default)]
    pub(crate) token: Option<String>,
    #[serde(rename = "IsTokenEnable")]
    pub(crate) is_token_enable: bool,
}

/// Parses an answer. `None` when the body is not the documented JSON.
pub(crate) fn parse<R: serde::de::DeserializeOwned>(body: &[u8]) -> Option<Base<R>> {
    serde_json::from_slice(body).ok()
}

/// The top-level `IPList` of a `GetIPList` answer.
pub(crate) fn ip_list(body: &[u8]) -> Option<Vec<String>> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "IPList")]
        ip_list: Vec<String>,
    }
    serde_json::from_slice::<Answer>(body)
        .ok()
        .map(|a| a.ip_list)
}

/// Tencent's `RequestId`, if the body is JSON that carries one (for logs, whatever the outcome).
pub(crate) fn request_id(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        #[serde(rename = "RequestId")]
        request_id: Option<String>,
    }
    serde_json::from_slice::<Id>(body).ok()?.request_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_answer_parses() {
        let body = br#"{"ErrorCode":0,"ErrorInfo":"","ActionStatus":"OK","RequestId":"Id-1","Response":{"Token":"abc","IsTokenEnable":true}}"#;
        let base: Base<TokenConfig> = parse(body).unwrap();
        assert_eq!(base.error_code, 0);
        let r = base.response.unwrap();
        assert_eq!(r.token.as_deref(), Some("abc"));
        assert!(r.is_token_enable);
    }

    #[test]
    fn garbage_does_not_parse() {
        for body in [
            &b""[..],
            b"<html>502</html>",
            br#"{"ErrorCode":0,"Response":{"Token":"a""#,
            br#"{"ErrorInfo":"no code"}"#,
            br#"{"ErrorCode":0,"Response":{"Token":5,"IsTokenEnable":true}}"#,
            br#"{"ErrorCode":"0"}"#,
        ] {
            assert!(parse::<TokenConfig>(body).is_none(), "{body:?}");
        }
    }

    #[test]
    fn error_answer_without_response_parses() {
        let body = br#"{"ActionStatus":"FAIL","ErrorCode":100302,"ErrorInfo":"not exist"}"#;
        let base: Base<TokenConfig> = parse(body).unwrap();
        assert_eq!(base.error_code, 100302);
        assert!(base.response.is_none());
        assert_eq!(base.action_status.as_deref(), Some("FAIL"));
    }
}
