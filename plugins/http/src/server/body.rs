//! A request's body, read whole before the handler runs: at most `max_body` bytes (413
//! beyond), its buffer charged to the bytes in flight (see [`crate::budget`]; 503 when all
//! the bodies being read at once would pass the script's memory limit).

use axum::body::{Body, HttpBody as _};
use axum::http::StatusCode;
use http_body_util::BodyExt as _;

use super::log;
use super::response::{self, HttpResponse};
use crate::budget::{Budget, Buffer, Charge, Refused};

/// Reads `body` whole, at most `max` bytes, for a script whose memory limit is
/// `budget`: the bytes and the charge that holds them, or a response to send instead.
pub async fn read(
    mut body: Body,
    max: usize,
    budget: Budget,
) -> Result<(Vec<u8>, Charge), HttpResponse> {
    let refused = |why: Refused| match why {
        Refused::TooLarge => response::error(StatusCode::PAYLOAD_TOO_LARGE),
        Refused::Exhausted(e) => {
            let why = e.to_string();
            log::error("request body refused", &[("reason", &why)]);
            response::text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the server is busy: {why}"),
            )
        }
    };
    let announced = body.size_hint().exact();
    let mut buffer = Buffer::new(max as u64, announced, budget).map_err(refused)?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            response::text(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {e}"),
            )
        })?;
        // Trailers carry no body bytes.
        if let Ok(chunk) = frame.into_data() {
            buffer.push(&chunk).map_err(refused)?;
        }
    }
    Ok(buffer.finish())
}
