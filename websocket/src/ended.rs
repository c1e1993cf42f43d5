//! How a connection ended, as `recv` reports it: `nil, "closed", code, reason`.

use assay_sdk::Value;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// RFC 6455 7.1.5: the close code of a close frame that carried none.
const NO_STATUS: u16 = 1005;
/// RFC 6455 7.1.5: the close code of a connection that ended without a close frame.
const ABNORMAL: u16 = 1006;

/// The code and reason a connection ended with.
#[derive(Clone, Debug, PartialEq)]
pub struct Ended {
    pub code: u16,
    pub reason: String,
}

impl Ended {
    /// The peer's close frame.
    pub fn by_peer(frame: Option<CloseFrame>) -> Self {
        match frame {
            Some(frame) => Self {
                code: frame.code.into(),
                reason: frame.reason.as_str().to_owned(),
            },
            None => Self {
                code: NO_STATUS,
                reason: String::new(),
            },
        }
    }

    /// Ended without a close frame (a reset, EOF, a close of ours left unanswered): `why`.
    pub fn abnormally(why: impl Into<String>) -> Self {
        Self {
            code: ABNORMAL,
            reason: why.into(),
        }
    }

    /// What `recv` returns once the connection ended.
    pub fn values(&self) -> Vec<Value> {
        vec![
            Value::Nil,
            "closed".into(),
            Value::Int(self.code.into()),
            self.reason.as_str().into(),
        ]
    }
}

/// A read that failed: the peer broke a rule, and we owe it a close frame saying which, or the
/// connection broke.
pub struct Failure {
    pub ended: Ended,
    /// The close frame to send the peer (RFC 6455 7.4.1): 1009 for a message or frame over
    /// `max_message`, 1007 for text that is not UTF-8, 1002 for any other breach.
    pub owed: Option<Message>,
}

impl Failure {
    pub fn of(e: &WsError, max_message: usize) -> Self {
        let limit = assay_sdk::files::describe_size(max_message as u64);
        let refused = |code: u16, ours: String, theirs: String| Self {
            ended: Ended { code, reason: ours },
            owed: Some(Message::Close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: theirs.into(),
            }))),
        };
        match e {
            WsError::Capacity(_) => refused(
                1009,
                format!("message larger than max_message ({limit})"),
                format!("message too big (max {max_message} bytes)"),
            ),
            WsError::Utf8(_) => refused(
                1007,
                e.to_string(),
                "text message is not valid UTF-8".to_owned(),
            ),
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Self {
                ended: Ended::abnormally(e.to_string()),
                owed: None,
            },
            WsError::Protocol(_) => refused(1002, e.to_string(), "protocol error".to_owned()),
            // A peer that vanished broke no rule: the connection is gone.
            _ => Self {
                ended: Ended::abnormally(e.to_string()),
                owed: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_frame_without_a_code_is_1005() {
        assert_eq!(Ended::by_peer(None).code, 1005);
        let frame = CloseFrame {
            code: CloseCode::from(4000),
            reason: "bye".into(),
        };
        let ended = Ended::by_peer(Some(frame));
        assert_eq!((ended.code, ended.reason.as_str()), (4000, "bye"));
    }
}
