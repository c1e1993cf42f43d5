//! Durations as check files write them: `500ms`, `60s`, `1.5s`, `2m`, `1h`, or a plain number
//! of seconds. Negative, NaN or absurd values (past 30 days) are errors.

use std::time::Duration;

/// The longest duration a check file may give (a deadline past this is a mistake).
const MAX: Duration = Duration::from_secs(30 * 24 * 3600);

/// `text` as a duration, or why not (the message completes "... is not a duration: ").
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit '{other}' (use ms, s, m or h, like 500ms, 30s, 2m)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| "not a number with a unit (like 500ms, 30s, 2m or 1h)".to_owned())?;
    seconds(value * scale)
}

/// A number of seconds as a duration, or why not.
pub fn seconds(value: f64) -> Result<Duration, String> {
    if !value.is_finite() || value < 0.0 {
        return Err("must be zero or more".to_owned());
    }
    let duration = Duration::try_from_secs_f64(value).map_err(|e| e.to_string())?;
    if duration > MAX {
        return Err("longer than 30 days".to_owned());
    }
    Ok(duration)
}

/// A duration as the reports write it: `850 ms`, `2.5 s`, `3 m 20 s`.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        let text = format!("{:.1}", d.as_secs_f64());
        format!("{} s", text.trim_end_matches(".0"))
    } else {
        let secs = d.as_secs();
        format!("{} m {} s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_plain_seconds() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn mistakes() {
        assert!(
            parse("5 minutes")
                .expect_err("unit")
                .contains("unknown unit 'minutes'")
        );
        assert!(parse("s").expect_err("no number").contains("not a number"));
        assert!(parse("1.2.3s").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse("31d").is_err());
        assert!(parse("999h").expect_err("too long").contains("30 days"));
        assert!(seconds(f64::NAN).is_err());
    }

    #[test]
    fn shown() {
        assert_eq!(show(Duration::from_millis(850)), "850 ms");
        assert_eq!(show(Duration::from_millis(2500)), "2.5 s");
        assert_eq!(show(Duration::from_secs(3)), "3 s");
        assert_eq!(show(Duration::from_secs(200)), "3 m 20 s");
    }
}
