//! What the AWS adapters share: one SDK configuration per process, and one way to turn
//! an SDK error into a [`PortError`].

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use pm_config::{ConfigError, Env};

use crate::PortError;

/// Loads the SDK configuration from the standard sources (`AWS_REGION`,
/// `AWS_ENDPOINT_URL` for moto or LocalStack, the Lambda role's credentials, ...), with
/// `timeouts`: the SDK sets none of its own, so a stalled call would hang a cold start
/// or a request until Lambda's own limit.
pub async fn load_sdk_config(timeouts: TimeoutConfig) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}

/// The SDK's time limits: to connect (`AWS_CONNECT_TIMEOUT_MS`, 2 s), for one attempt
/// (`AWS_ATTEMPT_TIMEOUT_MS`, 3 s) and for a whole call with its retries
/// (`AWS_OPERATION_TIMEOUT_MS`, 8 s: inside a 10 s function timeout).
pub fn timeout_config(env: &Env) -> Result<TimeoutConfig, ConfigError> {
    let ms = |var: &str, default: u64| -> Result<Duration, ConfigError> {
        Ok(Duration::from_millis(env.parsed_or(var, default)?.max(1)))
    };
    Ok(TimeoutConfig::builder()
        .connect_timeout(ms("AWS_CONNECT_TIMEOUT_MS", 2_000)?)
        .operation_attempt_timeout(ms("AWS_ATTEMPT_TIMEOUT_MS", 3_000)?)
        .operation_timeout(ms("AWS_OPERATION_TIMEOUT_MS", 8_000)?)
        .build())
}

/// Throttling is `Throttled`; transport failures, timeouts and 5xx are `Unavailable`
/// (retryable); other service errors are `Rejected`.
pub(crate) fn classify<E, R>(backend: &'static str, err: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let throttled = matches!(&err, SdkError::ServiceError(service) if matches!(
        service.err().code().unwrap_or_default(),
        "ThrottlingException" | "ProvisionedThroughputExceededException" | "RequestLimitExceeded"
    ));
    let retryable = match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            matches!(
                code,
                "InternalServerError" | "InternalFailure" | "ServiceUnavailable"
            )
        }
        _ => false,
    };
    let detail = DisplayErrorContext(&err).to_string();
    if throttled {
        return PortError::throttled(backend, detail);
    }
    if retryable {
        PortError::unavailable(backend, detail)
    } else {
        PortError::rejected(backend, detail)
    }
}
