//! [`Error`]: why a callback's body could not be read as its command's type.

use std::fmt;

/// Why a callback could not be read as a typed event: a [`kind`](Error::kind), the command it
/// was read for, and where in the body parsing stopped.
///
/// The message never quotes the body (a message text is a user's data, not a log line's): it
/// names the command, the reason and the line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    command: Option<&'static str>,
    position: Option<(usize, usize)>,
}

/// The reasons a callback is refused where its body is read, each its own counter
/// ([`Stats`](crate::Stats)) and HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The body is not UTF-8 JSON, or has more than one value (400).
    Malformed,
    /// The body is JSON but does not match the command's type: a missing or mistyped field,
    /// a duplicate field (400).
    Mismatch,
    /// The command is read twice and the readings differ: the query's `CallbackCommand` and the
    /// body's, `CallbackCommand` and `WebhookCommand`, a command given twice, or a body command for
    /// another type than the one it is parsed into (400).
    CommandConflict,
    /// The query's command parameter is not a literal, single, plausible command name (a
    /// percent-encoded or case-changed parameter name, an empty or non-`[A-Za-z0-9._]` value)
    /// (400).
    BadQueryCommand,
    /// Neither the query nor the body names a command (400).
    MissingCommand,
    /// The body is over the limit (413).
    TooLarge,
    /// The `Content-Type` is neither absent nor `application/json` (415).
    UnsupportedMediaType,
    /// The request did not pass a verification layer: no `VerifiedCallback` (or
    /// `VerifiedTrtcEvent`) in its extensions. A deployment mistake, refused (500).
    NotVerified,
    /// The body could not be read from the connection (400).
    BodyRead,
    /// The handler panicked (500; a before-callback is answered by the policy). The router
    /// catches it so that Tencent gets an answer: without one, a before-callback counts as
    /// failed and the message is delivered unmoderated.
    HandlerPanicked,
}

impl ErrorKind {
    /// Every kind, in counter order.
    pub const ALL: [ErrorKind; 10] = [
        Self::Malformed,
        Self::Mismatch,
        Self::CommandConflict,
        Self::BadQueryCommand,
        Self::MissingCommand,
        Self::TooLarge,
        Self::UnsupportedMediaType,
        Self::NotVerified,
        Self::BodyRead,
        Self::HandlerPanicked,
    ];

    /// The HTTP status this refusal is answered with (where no before-callback policy applies).
    pub fn status(self) -> http::StatusCode {
        match self {
            Self::TooLarge => http::StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotVerified | Self::HandlerPanicked => http::StatusCode::INTERNAL_SERVER_ERROR,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }

    /// A short snake_case name (log fields, metric labels).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Mismatch => "mismatch",
            Self::CommandConflict => "command_conflict",
            Self::BadQueryCommand => "bad_query_command",
            Self::MissingCommand => "missing_command",
            Self::TooLarge => "too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotVerified => "not_verified",
            Self::BodyRead => "body_read",
            Self::HandlerPanicked => "handler_panicked",
        }
    }

    /// The counter slot: the declaration order, which `ALL` follows (checked below).
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "the body is not one UTF-8 JSON value",
            Self::Mismatch => "the body does not match the command's type",
            Self::CommandConflict => "the command is given twice and the readings differ",
            Self::BadQueryCommand => {
                "the query's command parameter is not a single literal command name"
            }
            Self::MissingCommand => "neither the query nor the body names a command",
            Self::TooLarge => "the body is over the limit",
            Self::UnsupportedMediaType => "the Content-Type is not application/json",
            Self::NotVerified => {
                "the request did not pass a verification layer (no verified extension)"
            }
            Self::BodyRead => "the body could not be read",
            Self::HandlerPanicked => "the handler panicked",
        }
    }
}

const _: () = {
    let mut i = 0;
    while i < ErrorKind::ALL.len() {
        assert!(
            ErrorKind::ALL[i] as usize == i,
            "ErrorKind::ALL is in declaration order"
        );
        i += 1;
    }
};

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            command: None,
            position: None,
        }
    }

    pub(crate) fn for_command(mut self, command: &'static str) -> Self {
        self.command = Some(command);
        self
    }

    /// From a `serde_json` error: its category and position, never its message (which may quote
    /// the body).
    pub(crate) fn json(error: &serde_json::Error) -> Self {
        let kind = match error.classify() {
            serde_json::error::Category::Data => ErrorKind::Mismatch,
            _ => ErrorKind::Malformed,
        };
        Self {
            kind,
            command: None,
            position: Some((error.line(), error.column())),
        }
    }

    /// Why.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The command the body was read for, when known.
    pub fn command(&self) -> Option<&'static str> {
        self.command
    }

    /// Where in the body parsing stopped (line and column, from 1), for JSON errors.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.position
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())?;
        if let Some(command) = self.command {
            write!(f, " ({command})")?;
        }
        if let Some((line, column)) = self.position {
            write!(f, " at line {line}, column {column}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
