//! strftime-style formats, both ways: `time.format` writes them and `time.parse(s, {format})`
//! reads them.
//!
//! Directives (as C/Python `strftime`, in the C locale): `%Y` year (4 digits), `%y` (2 digits;
//! read as Python does: 69-99 are 19xx, 00-68 are 20xx), `%m` month, `%d` day, `%e` day
//! padded with a space, `%j` day of the year, `%H` hour (24), `%I` hour (12) with `%p`
//! (`AM`/`PM`), `%M` minute, `%S` second, `%f` microseconds (6 digits; reads 1-9 digits of a
//! fraction), `%a`/`%A` weekday name, `%b`/`%h`/`%B` month name, `%u` weekday 1-7 (Monday 1),
//! `%w` weekday 0-6 (Sunday 0), `%z` offset `+hhmm` (reads `+hh:mm` and `Z` too), `%:z`
//! offset `+hh:mm`, `%Z` zone abbreviation (`CET`, `UTC`; reads only `UTC`, `GMT`, `UT` and
//! `Z`: other abbreviations are ambiguous), `%s` Unix seconds, `%F` = `%Y-%m-%d`, `%T` =
//! `%H:%M:%S`, `%D` = `%m/%d/%y`, `%R` = `%H:%M`, `%n` newline, `%t` tab, `%%` a `%`.
//! Any other directive is an error naming it. When reading, a space in the format matches
//! any run of whitespace, numbers may have fewer digits than they are written with (`%d`
//! reads `6` and `06`), names are matched without regard to case, and the weekday is read but
//! not checked against the date (as Python's `strptime`).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::zone::{Offset, Zone, offset_text};

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// One instant as a clock in some zone shows it.
pub struct Civil {
    pub unix: i64,
    pub nanos: u32,
    pub local: PrimitiveDateTime,
    pub offset: Offset,
}

impl Civil {
    /// `unix` seconds (and `nanos`) on the clock of `zone`; an error outside the years 1-9999.
    pub fn new(unix: i64, nanos: u32, zone: &Zone) -> Result<Civil, String> {
        let offset = zone.at(unix)?;
        let local = OffsetDateTime::from_unix_timestamp(unix + i64::from(offset.seconds))
            .ok()
            .filter(|t| (1..=9999).contains(&t.year()))
            .ok_or("outside the years 1..9999")?;
        let local = PrimitiveDateTime::new(local.date(), local.time());
        Ok(Civil {
            unix,
            nanos,
            local,
            offset,
        })
    }
}

/// `civil` written by `format`, or the directive `format` has that is not known.
pub fn format(civil: &Civil, format: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = format.chars();
    let (date, clock) = (civil.local.date(), civil.local.time());
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut d = chars.next().ok_or("format ends with a lone '%'")?;
        let colon = d == ':';
        if colon {
            d = chars.next().unwrap_or(' ');
            if d != 'z' {
                return Err(format!("unknown directive %:{d} in format"));
            }
        }
        let hour12 = match clock.hour() % 12 {
            0 => 12,
            h => h,
        };
        let text = match d {
            'Y' => format!("{:04}", date.year()),
            'y' => format!("{:02}", date.year() % 100),
            'm' => format!("{:02}", date.month() as u8),
            'd' => format!("{:02}", date.day()),
            'e' => format!("{:>2}", date.day()),
            'j' => format!("{:03}", date.ordinal()),
            'H' => format!("{:02}", clock.hour()),
            'I' => format!("{hour12:02}"),
            'p' => (if clock.hour() < 12 { "AM" } else { "PM" }).to_owned(),
            'M' => format!("{:02}", clock.minute()),
            'S' => format!("{:02}", clock.second()),
            'f' => format!("{:06}", civil.nanos / 1000),
            'a' => DAYS[date.weekday().number_days_from_monday() as usize][..3].to_owned(),
            'A' => DAYS[date.weekday().number_days_from_monday() as usize].to_owned(),
            'b' | 'h' => MONTHS[date.month() as usize - 1][..3].to_owned(),
            'B' => MONTHS[date.month() as usize - 1].to_owned(),
            'u' => date.weekday().number_from_monday().to_string(),
            'w' => date.weekday().number_days_from_sunday().to_string(),
            'z' => offset_text(civil.offset.seconds, colon),
            'Z' => civil.offset.abbreviation.clone(),
            's' => civil.unix.to_string(),
            'F' => format!(
                "{:04}-{:02}-{:02}",
                date.year(),
                date.month() as u8,
                date.day()
            ),
            'T' => format!(
                "{:02}:{:02}:{:02}",
                clock.hour(),
                clock.minute(),
                clock.second()
            ),
            'D' => format!(
                "{:02}/{:02}/{:02}",
                date.month() as u8,
                date.day(),
                date.year() % 100
            ),
            'R' => format!("{:02}:{:02}", clock.hour(), clock.minute()),
            'n' => "\n".to_owned(),
            't' => "\t".to_owned(),
            '%' => "%".to_owned(),
            other => return Err(format!("unknown directive %{other} in format")),
        };
        out.push_str(&text);
    }
    Ok(out)
}

/// What a custom format read from a text.
#[derive(Debug, Default)]
pub struct Fields {
    year: Option<i32>,
    month: Option<u8>,
    day: Option<u8>,
    ordinal: Option<u16>,
    hour: u8,
    hour12: Option<u8>,
    pm: Option<bool>,
    minute: u8,
    second: u8,
    nanos: u32,
    /// Seconds east of UTC, when the text gave one.
    pub offset: Option<i32>,
    /// Unix seconds, when the text gave them (`%s`).
    pub unix: Option<i64>,
}

impl Fields {
    /// The instant these fields mean, reading a time without an offset on `zone`'s clock.
    pub fn instant(&self, zone: &Zone) -> Result<(i64, u32), String> {
        if let Some(unix) = self.unix {
            return Ok((unix, self.nanos));
        }
        let year = self.year.unwrap_or(1900);
        let date = match (self.ordinal, self.month, self.day) {
            (Some(ordinal), None, None) => Date::from_ordinal_date(year, ordinal)
                .map_err(|_| format!("day {ordinal} is not in the year {year}"))?,
            _ => {
                let month = self.month.unwrap_or(1);
                let day = self.day.unwrap_or(1);
                let m = Month::try_from(month).map_err(|_| format!("no month {month}"))?;
                Date::from_calendar_date(year, m, day)
                    .map_err(|_| format!("{year:04}-{month:02}-{day:02} is not a date"))?
            }
        };
        let hour = match (self.hour12, self.pm) {
            (Some(h), pm) => h % 12 + if pm == Some(true) { 12 } else { 0 },
            (None, _) => self.hour,
        };
        let clock = Time::from_hms(hour, self.minute, self.second).map_err(|_| {
            format!(
                "{hour:02}:{:02}:{:02} is not a time",
                self.minute, self.second
            )
        })?;
        let local = PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .unix_timestamp();
        let unix = match self.offset {
            Some(offset) => local - i64::from(offset),
            None => zone.to_utc(local)?,
        };
        Ok((unix, self.nanos))
    }
}

/// Reads `text` by `format` (see the module docs); the reason when it does not match.
pub fn parse(text: &str, format: &str) -> Result<Fields, String> {
    let mut fields = Fields::default();
    let mut input = Reader { text, at: 0 };
    let format = expand(format);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            input.whitespace();
            continue;
        }
        if c != '%' {
            input.literal(c)?;
            continue;
        }
        let mut d = chars.next().ok_or("format ends with a lone '%'")?;
        if d == ':' {
            d = chars.next().unwrap_or(' ');
            if d != 'z' {
                return Err(format!("unknown directive %:{d} in format"));
            }
        }
        match d {
            'Y' => fields.year = Some(input.number(4, 4, "year")? as i32),
            'y' => {
                let y = input.number(1, 2, "year")? as i32;
                fields.year = Some(if y < 69 { 2000 + y } else { 1900 + y });
            }
            'm' => fields.month = Some(input.number(1, 2, "month")? as u8),
            'd' | 'e' => {
                input.spaces();
                fields.day = Some(input.number(1, 2, "day")? as u8);
            }
            'j' => fields.ordinal = Some(input.number(1, 3, "day of the year")? as u16),
            'H' => fields.hour = input.number(1, 2, "hour")? as u8,
            'I' => fields.hour12 = Some(input.number(1, 2, "hour")? as u8),
            'p' => fields.pm = Some(input.name(&["AM", "PM"], "AM or PM")? == 1),
            'M' => fields.minute = input.number(1, 2, "minute")? as u8,
            'S' => fields.second = input.number(1, 2, "second")? as u8,
            'f' => {
                let start = input.at;
                let digits = input.number(1, 9, "fraction")?;
                let count = (input.at - start) as u32;
                fields.nanos = (digits * 10u64.pow(9 - count)) as u32;
            }
            'a' => {
                input.name(&DAYS.map(|d| &d[..3]), "weekday")?;
            }
            'A' => {
                input.name(&DAYS, "weekday")?;
            }
            'b' | 'h' => {
                fields.month = Some(input.name(&MONTHS.map(|m| &m[..3]), "month name")? as u8 + 1);
            }
            'B' => fields.month = Some(input.name(&MONTHS, "month name")? as u8 + 1),
            'u' | 'w' => {
                input.number(1, 1, "weekday")?;
            }
            'z' => fields.offset = Some(input.offset()?),
            'Z' => {
                input.name(&["UTC", "GMT", "UT", "Z"], "UTC, GMT, UT or Z")?;
                fields.offset = Some(0);
            }
            's' => {
                let negative = input.rest().starts_with('-');
                if negative {
                    input.at += 1;
                }
                let n = input.number(1, 18, "Unix seconds")? as i64;
                fields.unix = Some(if negative { -n } else { n });
            }
            '%' => input.literal('%')?,
            other => return Err(format!("unknown directive %{other} in format")),
        }
    }
    if !input.rest().is_empty() {
        return Err(format!("{:?} is left over after the format", input.rest()));
    }
    Ok(fields)
}

/// `format` with the directives that stand for several (`%F`, `%T`, `%D`, `%R`) written
/// out, and `%n`/`%t` as a space (any whitespace, when reading).
fn expand(format: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('F') => out.push_str("%Y-%m-%d"),
            Some('T') => out.push_str("%H:%M:%S"),
            Some('D') => out.push_str("%m/%d/%y"),
            Some('R') => out.push_str("%H:%M"),
            Some('n' | 't') => out.push(' '),
            Some(d) => {
                out.push('%');
                out.push(d);
            }
            None => out.push('%'),
        }
    }
    out
}

/// The text being read and where.
struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn whitespace(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start_matches(' ').len();
    }

    fn expected(&self, what: &str) -> String {
        match self.rest().chars().next() {
            Some(_) => format!("expected {what} at {:?}", self.rest()),
            None => format!("expected {what} at the end"),
        }
    }

    fn literal(&mut self, c: char) -> Result<(), String> {
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            Ok(())
        } else {
            Err(self.expected(&format!("{c:?}")))
        }
    }

    /// `min..=max` ASCII digits.
    fn number(&mut self, min: usize, max: usize, what: &str) -> Result<u64, String> {
        let count = self
            .rest()
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if count < min {
            return Err(self.expected(what));
        }
        let n = self.rest()[..count]
            .parse()
            .map_err(|_| self.expected(what))?;
        self.at += count;
        Ok(n)
    }

    /// The index of the name in `names` the text starts with (any case), longest first.
    fn name(&mut self, names: &[&str], what: &str) -> Result<usize, String> {
        let mut best: Option<(usize, usize)> = None;
        for (i, name) in names.iter().enumerate() {
            let rest = self.rest().as_bytes();
            if rest.len() >= name.len()
                && rest[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && best.is_none_or(|(_, len)| name.len() > len)
            {
                best = Some((i, name.len()));
            }
        }
        let (i, len) = best.ok_or_else(|| self.expected(what))?;
        self.at += len;
        Ok(i)
    }

    /// `Z`, `+hh:mm`, `+hhmm` or `+hh`.
    fn offset(&mut self) -> Result<i32, String> {
        if self.rest().starts_with(['Z', 'z']) {
            self.at += 1;
            return Ok(0);
        }
        let len = self
            .rest()
            .char_indices()
            .take_while(|(i, c)| {
                (*i == 0 && (*c == '+' || *c == '-'))
                    || (*i > 0 && (c.is_ascii_digit() || *c == ':'))
            })
            .count();
        let candidate = &self.rest()[..len];
        match super::zone::parse_offset(candidate) {
            Some(Ok(seconds)) => {
                self.at += len;
                Ok(seconds)
            }
            Some(Err(why)) => Err(why),
            None => Err(self.expected("an offset like +0200 or +02:00")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_every_directive() {
        let civil = Civil::new(784_111_777, 123_456_000, &Zone::Fixed(-18_000)).expect("in range");
        let all =
            "%Y %y %m %d %e %j %H %I %p %M %S %f %a %A %b %h %B %u %w %z %:z %Z %s %F %T %D %R %%";
        assert_eq!(
            format(&civil, all).expect("known directives"),
            "1994 94 11 06  6 310 03 03 AM 49 37 123456 Sun Sunday Nov Nov November 7 0 -0500 -05:00 \
             UTC-05:00 784111777 1994-11-06 03:49:37 11/06/94 03:49 %"
        );
        assert!(format(&civil, "%Q").is_err());
        assert!(format(&civil, "%").is_err());
    }

    #[test]
    fn parses_what_it_formats() {
        let fields = parse(
            "06/Nov/94 3:49:37.5 pm -05:00",
            "%d/%b/%y %I:%M:%S.%f %p %z",
        )
        .expect("matches");
        assert_eq!(
            fields.instant(&Zone::Utc),
            Ok((784_111_777 + 12 * 3600, 500_000_000))
        );
        assert!(parse("1994-11-06", "%Y-%m-%d %H").is_err());
        assert!(parse("1994-11-06x", "%Y-%m-%d").is_err());
        let bad_date = parse("1994-02-30", "%F").expect("shape matches");
        assert!(bad_date.instant(&Zone::Utc).is_err());
    }
}
