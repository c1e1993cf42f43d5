//! PostgreSQL: statements and rows. PostgreSQL types every parameter strictly (a text value
//! for an integer column is an error, not a conversion), so each statement is prepared first
//! and every Lua value is encoded as exactly the type the server expects for its parameter:
//! a number for integer, float and numeric parameters, a boolean for boolean ones, a string
//! for text, bytea, uuid, date and timestamp ones (RFC 3339), a table or any value for json
//! and jsonb ones. Rows come back in the binary format and are read by their type's oid.

use assay_sdk::Value;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgColumn, PgConnection, PgRow, PgTypeInfo, PgValueRef, Postgres,
};
use sqlx::types::Uuid;
use sqlx::{Arguments, AssertSqlSafe, Decode, Either, Encode, Executor};
use sqlx::{SqlSafeStr, Statement, Type, TypeInfo, ValueRef};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use crate::bind;
use crate::conn::Failure;
use crate::mysql::{date, datetime};

crate::statements::statements!(PgConnection, PgRow);

/// PostgreSQL has no last insert id: `returning id` with `query_one` gives it.
fn last_id(_: &sqlx::postgres::PgQueryResult) -> Option<i64> {
    None
}

async fn prepare(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Value],
) -> Result<PgArguments, Failure> {
    let statement = conn
        .prepare(AssertSqlSafe(sql.to_owned()).into_sql_str())
        .await?;
    let types: Vec<PgTypeInfo> = match statement.parameters() {
        Some(Either::Left(types)) => types.to_vec(),
        Some(Either::Right(_)) | None => Vec::new(),
    };
    bind::check_count(types.len(), params.len())?;
    let mut arguments = PgArguments::default();
    for (i, (value, wanted)) in params.iter().zip(&types).enumerate() {
        let param = Param::of(value, wanted, i)?;
        arguments
            .add(param)
            .map_err(|e| Failure::Call(format!("parameter {}: {e}", i + 1)))?;
    }
    Ok(arguments)
}

// The oids of the types read and written here (pg_type.dat).
const BOOL: u32 = 16;
const BYTEA: u32 = 17;
const NAME: u32 = 19;
const INT8: u32 = 20;
const INT2: u32 = 21;
const INT4: u32 = 23;
const TEXT: u32 = 25;
const OID: u32 = 26;
const JSON: u32 = 114;
const FLOAT4: u32 = 700;
const FLOAT8: u32 = 701;
const UNKNOWN: u32 = 705;
const BPCHAR: u32 = 1042;
const VARCHAR: u32 = 1043;
const DATE: u32 = 1082;
const TIME: u32 = 1083;
const TIMESTAMP: u32 = 1114;
const TIMESTAMPTZ: u32 = 1184;
const NUMERIC: u32 = 1700;
const UUID: u32 = 2950;
const VOID: u32 = 2278;
const JSONB: u32 = 3802;

fn oid(info: &PgTypeInfo) -> u32 {
    info.oid().map_or(0, |Oid(n)| n)
}

/// One parameter, encoded as the type its statement expects.
#[derive(Debug)]
struct Param {
    /// The bytes of its binary format, or `None` for NULL.
    bytes: Option<Vec<u8>>,
    info: PgTypeInfo,
}

impl Param {
    fn of(value: &Value, wanted: &PgTypeInfo, i: usize) -> Result<Param, Failure> {
        let info = wanted.clone();
        if matches!(value, Value::Nil | Value::Null) {
            return Ok(Param { bytes: None, info });
        }
        let type_name = wanted.name().to_owned();
        let mismatch = || {
            Failure::Call(format!(
                "parameter {} is a {}, but PostgreSQL expects {type_name} there",
                i + 1,
                value.type_name()
            ))
        };
        let text = || match value {
            Value::Str(bytes) => bytes.to_str().ok_or_else(|| {
                Failure::Call(format!(
                    "parameter {}: {type_name} text must be UTF-8",
                    i + 1
                ))
            }),
            _ => Err(mismatch()),
        };
        let bad = |e: String| Failure::Call(format!("parameter {}: {e}", i + 1));
        let mut buf = PgArgumentBuffer::default();
        let encoded: Result<IsNull, BoxDynError> = match oid(wanted) {
            BOOL => match value {
                Value::Bool(b) => b.put(&mut buf),
                _ => return Err(mismatch()),
            },
            INT2 | INT4 | INT8 | OID => {
                let n = match value {
                    Value::Int(n) => *n,
                    Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => *f as i64,
                    _ => return Err(mismatch()),
                };
                let range = || bad(format!("{n} does not fit a {type_name}"));
                match oid(wanted) {
                    INT2 => i16::try_from(n).map_err(|_| range())?.put(&mut buf),
                    INT4 => i32::try_from(n).map_err(|_| range())?.put(&mut buf),
                    OID => Oid(u32::try_from(n).map_err(|_| range())?).put(&mut buf),
                    _ => n.put(&mut buf),
                }
            }
            FLOAT4 | FLOAT8 | NUMERIC => {
                let f = match value {
                    Value::Int(n) => *n as f64,
                    Value::Float(f) => *f,
                    Value::Str(_) if oid(wanted) == NUMERIC => {
                        buf.extend(numeric::encode(text()?).map_err(bad)?);
                        return Ok(Param {
                            bytes: Some(buf.to_vec()),
                            info,
                        });
                    }
                    _ => return Err(mismatch()),
                };
                match oid(wanted) {
                    FLOAT4 => (f as f32).put(&mut buf),
                    FLOAT8 => f.put(&mut buf),
                    _ => {
                        let digits = match value {
                            Value::Int(n) => n.to_string(),
                            _ => format!("{f}"),
                        };
                        buf.extend(numeric::encode(&digits).map_err(bad)?);
                        Ok(IsNull::No)
                    }
                }
            }
            TEXT | VARCHAR | BPCHAR | NAME | UNKNOWN => {
                buf.extend(text()?.as_bytes());
                Ok(IsNull::No)
            }
            BYTEA => match value {
                Value::Str(bytes) => {
                    buf.extend(bytes.as_slice());
                    Ok(IsNull::No)
                }
                _ => return Err(mismatch()),
            },
            JSON | JSONB => {
                let json =
                    assay_sdk::json::encode(value).map_err(|e| bad(e.message().to_owned()))?;
                if oid(wanted) == JSONB {
                    buf.push(1); // jsonb's binary format version
                }
                buf.extend(json);
                Ok(IsNull::No)
            }
            UUID => Uuid::parse_str(text()?)
                .map_err(|e| bad(format!("not a UUID: {e}")))?
                .put(&mut buf),
            DATE => parse_date(text()?).map_err(bad)?.put(&mut buf),
            TIME => Time::parse(text()?, TIME_FORMAT)
                .map_err(|e| bad(format!("not a time (HH:MM:SS): {e}")))?
                .put(&mut buf),
            TIMESTAMP => parse_timestamp(text()?).map_err(bad)?.put(&mut buf),
            TIMESTAMPTZ => {
                OffsetDateTime::parse(text()?, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| bad(format!("not an RFC 3339 timestamp: {e}")))?
                    .put(&mut buf)
            }
            _ => {
                return Err(bad(format!(
                    "the db plugin cannot send a {type_name}; cast in SQL from text \
                     (${}::text::{type_name}) or json",
                    i + 1
                )));
            }
        };
        let bytes = match encoded.map_err(|e| bad(e.to_string()))? {
            IsNull::Yes => None,
            IsNull::No => Some(buf.to_vec()),
        };
        Ok(Param { bytes, info })
    }
}

const TIME_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[hour]:[minute]:[second][optional [.[subsecond]]]");

fn parse_date(text: &str) -> Result<Date, String> {
    const FORMAT: &[time::format_description::FormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, FORMAT).map_err(|e| format!("not a date (YYYY-MM-DD): {e}"))
}

fn parse_timestamp(text: &str) -> Result<PrimitiveDateTime, String> {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day][first [T][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(text.trim_end_matches('Z'), FORMAT)
        .map_err(|e| format!("not a timestamp (YYYY-MM-DDTHH:MM:SS): {e}"))
}

/// `value.put(buf)`: encodes as PostgreSQL's binary format (`Encode` has an impl per backend).
trait Put {
    fn put(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError>;
}

impl<T: for<'q> Encode<'q, Postgres>> Put for T {
    fn put(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <T as Encode<'_, Postgres>>::encode_by_ref(self, buf)
    }
}

impl Type<Postgres> for Param {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(UNKNOWN))
    }

    fn compatible(_: &PgTypeInfo) -> bool {
        true
    }
}

impl Encode<'_, Postgres> for Param {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match &self.bytes {
            None => Ok(IsNull::Yes),
            Some(bytes) => {
                buf.extend(bytes);
                Ok(IsNull::No)
            }
        }
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.info.clone())
    }
}

fn value(raw: PgValueRef<'_>, _column: &PgColumn) -> Result<Value, BoxDynError> {
    fn get<'r, T: Decode<'r, Postgres>>(raw: PgValueRef<'r>) -> Result<T, BoxDynError> {
        T::decode(raw)
    }
    let info = raw.type_info().into_owned();
    Ok(match oid(&info) {
        BOOL => Value::Bool(get::<bool>(raw)?),
        // What a function returning nothing (`pg_sleep`) gives.
        VOID => Value::Null,
        INT2 => Value::Int(i64::from(get::<i16>(raw)?)),
        INT4 => Value::Int(i64::from(get::<i32>(raw)?)),
        INT8 => Value::Int(get::<i64>(raw)?),
        OID => Value::Int(i64::from(get::<Oid>(raw)?.0)),
        FLOAT4 => Value::Float(f64::from(get::<f32>(raw)?)),
        FLOAT8 => Value::Float(get::<f64>(raw)?),
        NUMERIC => Value::from(numeric::decode(raw.as_bytes()?)?),
        TEXT | VARCHAR | BPCHAR | NAME | UNKNOWN => Value::from(raw.as_str()?.to_owned()),
        BYTEA => Value::from(raw.as_bytes()?.to_vec()),
        JSON | JSONB => {
            let tree = get::<sqlx::types::Json<serde_json::Value>>(raw)?.0;
            assay_sdk::json::from_json(tree).map_err(|e| e.message().to_owned())?
        }
        UUID => Value::from(get::<Uuid>(raw)?.to_string()),
        DATE => Value::from(date(get::<Date>(raw)?)),
        TIME => Value::from(get::<Time>(raw)?.to_string()),
        TIMESTAMP => Value::from(datetime(get::<PrimitiveDateTime>(raw)?, "")),
        TIMESTAMPTZ => {
            let t = get::<OffsetDateTime>(raw)?.to_offset(time::UtcOffset::UTC);
            Value::from(datetime(PrimitiveDateTime::new(t.date(), t.time()), "Z"))
        }
        _ if info.name().ends_with("[]") => array(raw, &info)?,
        _ if <str as Type<Postgres>>::compatible(&info) => Value::from(raw.as_str()?.to_owned()),
        _ => {
            return Err(format!(
                "the db plugin cannot read type {}; select it as text (column::text)",
                info.name()
            )
            .into());
        }
    })
}

/// Arrays of the common element types, as lists (`json.null` for a NULL element).
fn array(raw: PgValueRef<'_>, info: &PgTypeInfo) -> Result<Value, BoxDynError> {
    fn list<T>(items: Vec<Option<T>>, each: impl Fn(T) -> Value) -> Value {
        Value::Array(
            items
                .into_iter()
                .map(|item| item.map_or(Value::Null, &each))
                .collect(),
        )
    }
    Ok(match info.name() {
        "BOOL[]" => list(Vec::<Option<bool>>::decode(raw)?, Value::Bool),
        "INT2[]" => list(Vec::<Option<i16>>::decode(raw)?, |n| Value::Int(n.into())),
        "INT4[]" => list(Vec::<Option<i32>>::decode(raw)?, |n| Value::Int(n.into())),
        "INT8[]" => list(Vec::<Option<i64>>::decode(raw)?, Value::Int),
        "FLOAT4[]" => list(Vec::<Option<f32>>::decode(raw)?, |f| Value::Float(f.into())),
        "FLOAT8[]" => list(Vec::<Option<f64>>::decode(raw)?, Value::Float),
        "TEXT[]" | "VARCHAR[]" | "BPCHAR[]" | "NAME[]" => {
            list(Vec::<Option<String>>::decode(raw)?, Value::from)
        }
        "UUID[]" => list(Vec::<Option<Uuid>>::decode(raw)?, |u| {
            Value::from(u.to_string())
        }),
        other => {
            return Err(format!(
                "the db plugin cannot read type {other}; select it as text (column::text)"
            )
            .into());
        }
    })
}

/// PostgreSQL's binary NUMERIC: a sign, a weight and base-10000 digits, to and from the
/// decimal text (exact both ways; NaN and infinities as PostgreSQL writes them).
mod numeric {
    const POSITIVE: u16 = 0x0000;
    const NEGATIVE: u16 = 0x4000;
    const NAN: u16 = 0xC000;
    const PLUS_INFINITY: u16 = 0xD000;
    const MINUS_INFINITY: u16 = 0xF000;

    pub fn decode(bytes: &[u8]) -> Result<String, String> {
        let word = |i: usize| -> Result<u16, String> {
            bytes
                .get(i * 2..i * 2 + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "a truncated numeric".to_owned())
        };
        let count = usize::from(word(0)?);
        let weight = i32::from(word(1)? as i16);
        let sign = word(2)?;
        let scale = usize::from(word(3)?);
        match sign {
            NAN => return Ok("NaN".into()),
            PLUS_INFINITY => return Ok("Infinity".into()),
            MINUS_INFINITY => return Ok("-Infinity".into()),
            POSITIVE | NEGATIVE => {}
            other => return Err(format!("a numeric with sign {other:#x}")),
        }
        let digits: Vec<u16> = (0..count).map(|i| word(4 + i)).collect::<Result<_, _>>()?;
        let mut out = String::new();
        if sign == NEGATIVE {
            out.push('-');
        }
        // The integer part: groups 0..=weight.
        if weight < 0 {
            out.push('0');
        } else {
            for g in 0..=weight {
                let d = digits.get(g as usize).copied().unwrap_or(0);
                if g == 0 {
                    out.push_str(&d.to_string());
                } else {
                    out.push_str(&format!("{d:04}"));
                }
            }
        }
        if scale > 0 {
            let mut fraction = String::new();
            let mut g = weight + 1;
            while fraction.len() < scale {
                let d = if g < 0 {
                    0
                } else {
                    digits.get(g as usize).copied().unwrap_or(0)
                };
                fraction.push_str(&format!("{d:04}"));
                g += 1;
            }
            fraction.truncate(scale);
            out.push('.');
            out.push_str(&fraction);
        }
        Ok(out)
    }

    /// The digits of a number as PostgreSQL reads one: white space around it, an exponent
    /// (`1.5e3`, `1E-20`), spelled out as plain decimal digits with the scale PostgreSQL
    /// gives it (the fraction's digits less the exponent, at least 0).
    fn plain(text: &str) -> Option<String> {
        let text = text.trim();
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        // PostgreSQL's own bounds: 131072 digits before the point, 16383 after.
        if !(-16383..=131072).contains(&exponent) {
            return None;
        }
        let (sign, unsigned) = match mantissa.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if exponent == 0 {
            return Some(
                format!("{sign}{int}.{frac}")
                    .trim_end_matches('.')
                    .to_owned(),
            );
        }
        let digits = format!("{int}{frac}");
        let point = int.len() as i64 + i64::from(exponent);
        let (int, frac) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_owned(),
                digits[point as usize..].to_owned(),
            )
        };
        Some(if frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        })
    }

    pub fn encode(text: &str) -> Result<Vec<u8>, String> {
        let bad = || format!("'{text}' is not a number");
        let word = |out: &mut Vec<u8>, w: u16| out.extend(w.to_be_bytes());
        let mut out = Vec::new();
        let trimmed = text.trim();
        let special = [
            "nan",
            "infinity",
            "+infinity",
            "inf",
            "+inf",
            "-infinity",
            "-inf",
        ]
        .iter()
        .position(|w| trimmed.eq_ignore_ascii_case(w))
        .map(|i| match i {
            0 => NAN,
            1..=4 => PLUS_INFINITY,
            _ => MINUS_INFINITY,
        });
        if let Some(sign) = special {
            for w in [0, 0, sign, 0] {
                word(&mut out, w);
            }
            return Ok(out);
        }
        let plain = plain(text).ok_or_else(bad)?;
        let (negative, unsigned) = match plain.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, plain.as_str()),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let int = int.trim_start_matches('0');
        let scale = u16::try_from(frac.len()).map_err(|_| bad())?;
        // Base-10000 groups aligned on the decimal point.
        let pad_left = (4 - int.len() % 4) % 4;
        let pad_right = (4 - frac.len() % 4) % 4;
        let all = format!(
            "{}{int}{frac}{}",
            "0".repeat(pad_left),
            "0".repeat(pad_right)
        );
        let groups: Vec<u16> = all
            .as_bytes()
            .chunks(4)
            .map(|c| {
                std::str::from_utf8(c)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0)
            })
            .collect();
        let int_groups = (int.len() + pad_left) / 4;
        let mut weight = int_groups as i32 - 1;
        // Strip leading and trailing zero groups (PostgreSQL's canonical form).
        let first = groups.iter().position(|g| *g != 0);
        let Some(first) = first else {
            for w in [0, 0, POSITIVE, scale] {
                word(&mut out, w);
            }
            return Ok(out);
        };
        let last = groups.iter().rposition(|g| *g != 0).unwrap_or(first);
        weight -= first as i32;
        let digits = &groups[first..=last];
        let weight = i16::try_from(weight).map_err(|_| bad())?;
        word(&mut out, u16::try_from(digits.len()).map_err(|_| bad())?);
        word(&mut out, weight as u16);
        word(&mut out, if negative { NEGATIVE } else { POSITIVE });
        word(&mut out, scale);
        for d in digits {
            word(&mut out, *d);
        }
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips() {
            for text in [
                "0",
                "1",
                "-1",
                "12345.678",
                "0.0001",
                "-0.5",
                "100000000",
                "3.14159265358979323846264338327950288",
                "99999999999999999999999999999999999999.99",
                "NaN",
                "Infinity",
                "-Infinity",
                "10.00",
            ] {
                let bytes = encode(text).expect(text);
                assert_eq!(decode(&bytes).expect(text), text, "{text}");
            }
            assert!(encode("12a").is_err() && encode("").is_err() && encode(".").is_err());
        }
    }
}
