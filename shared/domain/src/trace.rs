//! The X-Ray trace an invocation runs in. The Lambda runtime client sets
//! `_X_AMZN_TRACE_ID` from each invocation's `Lambda-Runtime-Trace-Id` (one invocation at
//! a time per process), and the AWS SDK sends it on every call it makes, so SQS carries a
//! trace on to the consumer by itself. The outbox breaks that chain (the relay sends
//! later, in its own invocation), so events keep the trace of the request that recorded
//! them and the relay sends it explicitly.

/// The longest trace header kept (a real one is about 100 bytes).
pub const MAX_TRACE_HEADER: usize = 256;

/// The current invocation's trace header (`Root=1-…;Parent=…;Sampled=…`), if any.
pub fn current() -> Option<String> {
    std::env::var("_X_AMZN_TRACE_ID")
        .ok()
        .filter(|header| valid(header))
}

/// What is accepted as a trace header: X-Ray's `Root=` form, printable, bounded.
pub fn valid(header: &str) -> bool {
    header.starts_with("Root=")
        && header.len() <= MAX_TRACE_HEADER
        && header.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_x_ray_headers_are_kept() {
        assert!(super::valid(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        ));
        assert!(!super::valid("not a trace"));
        assert!(!super::valid(&format!("Root={}", "a".repeat(300))));
    }
}
