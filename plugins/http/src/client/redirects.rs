//! Which URL a request was at when it failed.
//!
//! reqwest follows redirects inside its own future and, when a redirected request fails (the
//! `Location` names a closed port, an unknown host), reports the URL first asked for: the
//! message would name the wrong server. The redirect policy therefore records each URL it
//! follows in a slot of the calling task ([`tracking`]), and the error names the last one.

use std::cell::RefCell;

use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};

tokio::task_local! {
    /// The last redirect target followed by the request this task is sending.
    static FOLLOWED: RefCell<Option<Url>>;
}

/// Follows at most `max` redirects (none when 0), recording each target for [`tracking`].
pub(crate) fn policy(max: usize) -> Policy {
    if max == 0 {
        return Policy::none();
    }
    Policy::custom(move |attempt: Attempt| {
        // The first of `previous` is the URL first asked for, not a redirect.
        if attempt.previous().len() > max {
            return attempt.error(TooManyRedirects(max));
        }
        let next = attempt.url().clone();
        // Outside `tracking` (no slot) the redirect is followed all the same.
        let _ = FOLLOWED.try_with(|slot| *slot.borrow_mut() = Some(next));
        attempt.follow()
    })
}

/// Runs `send` (a request being sent) and returns its outcome with the last redirect target it
/// followed, if any: the URL a failure happened at.
pub(crate) async fn tracking<T>(send: impl Future<Output = T>) -> (T, Option<Url>) {
    FOLLOWED
        .scope(RefCell::new(None), async move {
            let outcome = send.await;
            let followed = FOLLOWED.with(|slot| slot.borrow_mut().take());
            (outcome, followed)
        })
        .await
}

#[derive(Debug, thiserror::Error)]
#[error("too many redirects (more than {0})")]
struct TooManyRedirects(usize);
