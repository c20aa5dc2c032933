use aws_config::{BehaviorVersion, Region};

use crate::peers;

/// An SDK configuration aimed at the test moto server with dummy credentials.
pub async fn moto_sdk() -> aws_config::SdkConfig {
    let moto = peers::moto();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "pm-tests",
        ))
        .load()
        .await
}

/// An SDK configuration aimed at a port where nothing listens.
pub async fn unreachable_sdk() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{}", peers::free_port()))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "pm-tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}
