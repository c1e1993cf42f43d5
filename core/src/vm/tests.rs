use super::*;

#[test]
fn embedders_add_globals_and_run_chunks() {
    let rt = Runtime::builder()
        .sandbox(true)
        .memory_limit(8 << 20)
        .build()
        .expect("runtime");
    rt.lua().globals().set("answer", 42).expect("set global");
    rt.run_chunk(
        "assert.eq(answer, 42); sleep(0.001); result = json.encode({answer})",
        "=test",
    )
    .expect("chunk runs");
    let result: String = rt.lua().globals().get("result").expect("result");
    assert_eq!(result, "[42]");
}

#[test]
fn script_errors_carry_position_and_traceback() {
    let rt = Runtime::builder().build().expect("runtime");
    let err = rt
        .run_chunk("local function f() error('boom') end\nf()", "=chunk")
        .expect_err("must fail");
    assert_eq!(err.exit_code(), 1);
    assert_eq!(err.to_string(), "chunk:1: boom");
    assert!(
        err.report().contains("stack traceback:"),
        "{}",
        err.report()
    );
}

#[test]
fn memory_limit_is_a_clean_error() {
    let rt = Runtime::builder()
        .memory_limit(4 << 20)
        .build()
        .expect("runtime");
    let err = rt
        .run_chunk("local t = {} for i = 1, 1e8 do t[i] = i end", "=chunk")
        .expect_err("must run out");
    assert!(
        matches!(err, RunError::Memory { limit } if limit == 4 << 20),
        "{err:?}"
    );
}

#[test]
fn sandbox_runs_have_a_deadline_by_default() {
    let budget = |rt: &Runtime| deadline::of(rt.lua()).map(|d| d.budget());
    let sandboxed = Runtime::builder().sandbox(true).build().expect("runtime");
    assert_eq!(budget(&sandboxed), Some(DEFAULT_SANDBOX_TIMEOUT));
    let off = Runtime::builder()
        .sandbox(true)
        .timeout(None)
        .build()
        .expect("runtime");
    assert_eq!(budget(&off), None);
    let plain = Runtime::builder().build().expect("runtime");
    assert_eq!(budget(&plain), None);
}

#[test]
fn a_deadline_ends_an_embedded_run() {
    let rt = Runtime::builder()
        .timeout(Some(Duration::from_millis(200)))
        .build()
        .expect("runtime");
    let err = rt
        .run_chunk(
            "while true do pcall(function() while true do end end) end",
            "=spin",
        )
        .expect_err("must time out");
    assert!(matches!(err, RunError::Timeout(_)), "{err:?}");
    assert_eq!(err.to_string(), "timed out after 0.2 s");
    // The next run has the whole budget again.
    rt.run_chunk("x = 1", "=next").expect("runs");
}
