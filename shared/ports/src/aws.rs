//! What the AWS adapters share: one SDK configuration per process, and one way to turn
//! an SDK error into a [`PortError`].

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::PortError;

/// Loads the SDK configuration from the standard sources (`AWS_REGION`,
/// `AWS_ENDPOINT_URL` for moto or LocalStack, the Lambda role's credentials, ...).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
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
