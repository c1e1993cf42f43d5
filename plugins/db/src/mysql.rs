//! MySQL and MariaDB: statements and rows, each column read by the type the server reports.
//! DECIMAL is a string (exact), JSON a table (MariaDB stores JSON as text and reports it as
//! text: a string there), DATE `YYYY-MM-DD`, DATETIME `YYYY-MM-DDTHH:MM:SS[.ffffff]` (no
//! zone: MySQL stores none), TIMESTAMP the same in UTC with `Z`, TIME `HH:MM:SS[.ffffff]`
//! (possibly negative or past 24 h, as MySQL allows), BIGINT UNSIGNED past 2^63 a string.

use assay_sdk::Value;
use sqlx::mysql::{MySql, MySqlColumn, MySqlConnection, MySqlRow, MySqlValueRef};
use sqlx::{Column, Decode, Type, TypeInfo, ValueRef};
use time::{Date, PrimitiveDateTime};

use crate::bind;
use crate::conn::Failure;

crate::statements::statements!(MySqlConnection, MySqlRow);

/// The last AUTO_INCREMENT id (none when the statement made none).
fn last_id(done: &sqlx::mysql::MySqlQueryResult) -> Option<i64> {
    i64::try_from(done.last_insert_id())
        .ok()
        .filter(|id| *id != 0)
}

async fn prepare(
    conn: &mut MySqlConnection,
    sql: &str,
    params: &[Value],
) -> Result<<MySql as sqlx::Database>::Arguments, Failure> {
    let expected = crate::statements::parameter_count::<MySql>(conn, sql).await?;
    bind::check_count(expected, params.len())?;
    bind::by_lua_type::<MySql>(params)
}

type Decoded = Result<Value, sqlx::error::BoxDynError>;

fn value(raw: MySqlValueRef<'_>, column: &MySqlColumn) -> Decoded {
    fn get<'r, T: Decode<'r, MySql>>(
        raw: MySqlValueRef<'r>,
    ) -> Result<T, sqlx::error::BoxDynError> {
        T::decode(raw)
    }
    Ok(match column.type_info().name() {
        "BOOLEAN" => Value::Bool(get::<bool>(raw)?),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => Value::Int(get::<i64>(raw)?),
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
        | "BIGINT UNSIGNED" | "BIT" => {
            let n = get::<u64>(raw)?;
            i64::try_from(n).map_or_else(|_| Value::from(n.to_string()), Value::Int)
        }
        "YEAR" => Value::Int(i64::from(get::<u16>(raw)?)),
        "FLOAT" => Value::Float(f64::from(get::<f32>(raw)?)),
        "DOUBLE" => Value::Float(get::<f64>(raw)?),
        // Exact: the server sends the digits.
        "DECIMAL" => Value::from(get::<&str>(raw)?.to_owned()),
        "JSON" => assay_sdk::json::decode(get::<&str>(raw)?.as_bytes())
            .map_err(|e| e.message().to_owned())?,
        "DATE" => Value::from(date(get::<Date>(raw)?)),
        "DATETIME" => Value::from(datetime(get::<PrimitiveDateTime>(raw)?, "")),
        "TIMESTAMP" => Value::from(datetime(get::<PrimitiveDateTime>(raw)?, "Z")),
        "TIME" => Value::from(get::<sqlx::mysql::types::MySqlTime>(raw)?.to_string()),
        _ if <str as Type<MySql>>::compatible(&raw.type_info()) => {
            Value::from(get::<&str>(raw)?.to_owned())
        }
        _ if <[u8] as Type<MySql>>::compatible(&raw.type_info()) => {
            Value::from(get::<&[u8]>(raw)?.to_vec())
        }
        other => {
            return Err(format!(
                "the db plugin cannot read type {other}; select it as text (CAST(column AS CHAR))"
            )
            .into());
        }
    })
}

pub fn date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// RFC 3339 without or with a zone suffix; fractions only when there are some.
pub fn datetime(t: PrimitiveDateTime, zone: &str) -> String {
    let nanos = t.nanosecond();
    let fraction = if nanos == 0 {
        String::new()
    } else {
        let digits = format!("{nanos:09}");
        format!(".{}", digits.trim_end_matches('0'))
    };
    format!(
        "{}T{:02}:{:02}:{:02}{fraction}{zone}",
        date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}
