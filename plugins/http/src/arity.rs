//! Refusing arguments a function does not take: `crypto.equal(a, b, {encoding = "raw"})` or
//! `resp:read(2)` would otherwise run as if the extra argument were not there, and the script's
//! mistake go unnoticed. The message is the core builtins' (`time.now(1)`):
//! `bad argument #3 (at most 2 arguments expected, got 3)`.

use assay_sdk::{Args, Error, Result};

/// Refuses arguments past the first `most`. `skip` leading arguments are not counted nor
/// numbered (the `self` of a function called as a method, `resp:header_values(name)`).
/// Trailing nils are what Lua passes for `f(a, nil)`: harmless.
pub(crate) fn at_most(args: &Args, most: usize, skip: usize) -> Result<()> {
    let given = (skip + 1..=args.len())
        .rev()
        .find(|&pos| !args.get(pos).is_nil())
        .map_or(0, |pos| pos - skip);
    if given > most {
        return Err(Error::new(format!(
            "bad argument #{} (at most {most} argument{} expected, got {given})",
            most + 1,
            if most == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_sdk::Value;

    #[test]
    fn extra_arguments_are_refused_and_trailing_nils_ignored() {
        let args = |values: Vec<Value>| Args::from_vec(values);
        assert!(at_most(&args(vec![Value::from("a"), Value::Nil]), 1, 0).is_ok());
        assert!(at_most(&args(vec![]), 0, 0).is_ok());
        let err = at_most(&args(vec![Value::Int(2)]), 0, 0).expect_err("extra");
        assert_eq!(
            err.message(),
            "bad argument #1 (at most 0 arguments expected, got 1)"
        );
        let err = at_most(
            &args(vec![Value::Nil, Value::from("x"), Value::from("y")]),
            1,
            1,
        )
        .expect_err("extra after self");
        assert_eq!(
            err.message(),
            "bad argument #2 (at most 1 argument expected, got 2)"
        );
    }
}
