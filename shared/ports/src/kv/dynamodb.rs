use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use super::{expiry, is_live, now_secs, validate, Advance, Expect, KeyValue, KvItem};
use crate::aws::classify;
use crate::PortError;

const BACKEND: &str = "dynamodb";
/// Attribute names; template.yaml's table uses `pk` as its key and `expires_at` for TTL.
const PK: &str = "pk";
const VALUE: &str = "value";
const VERSION: &str = "version";
const EXPIRES_AT: &str = "expires_at";
/// A rate cell's time (see [`KeyValue::advance`]).
const TAT: &str = "tat";

/// Items in one DynamoDB table. Conditional writes are `PutItem` with a condition
/// expression, so the check and the write are one atomic step on the server.
pub struct DynamoDbStore {
    client: Client,
    table: String,
}

impl DynamoDbStore {
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self {
            client: Client::new(sdk),
            table: table.into(),
        }
    }

    /// Creates the table (key `pk`, TTL on `expires_at`) if it does not exist: for tests
    /// and the local runtime against moto. In AWS the table comes from template.yaml.
    pub async fn ensure_table(sdk: &aws_config::SdkConfig, table: &str) -> Result<Self, PortError> {
        let store = Self::new(sdk, table);
        let exists = store.client.describe_table().table_name(table).send().await;
        if exists.is_err() {
            let created = store
                .client
                .create_table()
                .table_name(table)
                .attribute_definitions(built(
                    AttributeDefinition::builder()
                        .attribute_name(PK)
                        .attribute_type(ScalarAttributeType::S)
                        .build(),
                )?)
                .key_schema(built(
                    KeySchemaElement::builder()
                        .attribute_name(PK)
                        .key_type(KeyType::Hash)
                        .build(),
                )?)
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await;
            match created {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception()) => {}
                Err(e) => return Err(classify(BACKEND, e)),
            }
            store
                .client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(built(
                    TimeToLiveSpecification::builder()
                        .attribute_name(EXPIRES_AT)
                        .enabled(true)
                        .build(),
                )?)
                .send()
                .await
                .map_err(|e| classify(BACKEND, e))?;
        }
        Ok(store)
    }
}

/// The SDK's builders only fail on a missing required field, which would be our bug.
fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, PortError> {
    result.map_err(|e| PortError::Invalid(e.to_string()))
}

fn key_of(key: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.to_string(), AttributeValue::S(key.to_string()))])
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

#[async_trait]
impl KeyValue for DynamoDbStore {
    async fn get(&self, key: &str) -> Result<Option<KvItem>, PortError> {
        validate(key, None)?;
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(BACKEND, e))?;
        let Some(item) = output.item() else {
            return Ok(None);
        };
        let expires_at = number(item, EXPIRES_AT);
        if !is_live(expires_at, now_secs()) {
            return Ok(None);
        }
        let value = item
            .get(VALUE)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        let version = number(item, VERSION).unwrap_or(0);
        Ok(Some(KvItem {
            value,
            version,
            expires_at,
        }))
    }

    async fn put_if(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
        ttl: Option<Duration>,
    ) -> Result<Option<u64>, PortError> {
        validate(key, Some(value))?;
        let (condition, version) = match expect {
            Expect::Absent => ("attribute_not_exists(#pk) OR #exp <= :now", 1),
            Expect::Version(v) => (
                "#ver = :expected AND (attribute_not_exists(#exp) OR #exp > :now)",
                v + 1,
            ),
        };
        let mut item = key_of(key);
        item.insert(VALUE.into(), AttributeValue::S(value.to_string()));
        item.insert(VERSION.into(), AttributeValue::N(version.to_string()));
        if let Some(at) = expiry(ttl) {
            item.insert(EXPIRES_AT.into(), AttributeValue::N(at.to_string()));
        }
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_values(":now", AttributeValue::N(now_secs().to_string()));
        request = match expect {
            Expect::Absent => request.expression_attribute_names("#pk", PK),
            Expect::Version(v) => request
                .expression_attribute_names("#ver", VERSION)
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string())),
        };
        match request.send().await {
            Ok(_) => Ok(Some(version)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(BACKEND, e)),
        }
    }

    /// Two conditional UpdateItems at most (a fresh or idle cell, else a step ahead), and
    /// a read only when refusing (for the caller's Retry-After). No read-then-write: the
    /// server applies each step atomically, so concurrent callers never lose a step.
    async fn advance(
        &self,
        key: &str,
        now: u64,
        step: u64,
        ahead: u64,
        ttl: Duration,
    ) -> Result<Advance, PortError> {
        validate(key, None)?;
        let expires = expiry(Some(ttl)).unwrap_or_default().to_string();
        let n = |v: u64| AttributeValue::N(v.to_string());
        let conditional_failed = |e: &aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
            _,
        >| {
            e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception())
        };
        let fresh = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .update_expression("SET #tat = :fresh, #exp = :exp")
            .condition_expression("attribute_not_exists(#tat) OR #tat <= :now")
            .expression_attribute_names("#tat", TAT)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_values(":fresh", n(now + step))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", AttributeValue::N(expires.clone()))
            .send()
            .await;
        match fresh {
            Ok(_) => return Ok(Advance::Taken { at: now + step }),
            Err(e) if conditional_failed(&e) => {}
            Err(e) => return Err(classify(BACKEND, e)),
        }
        let stepped = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .update_expression("SET #tat = #tat + :step, #exp = :exp")
            .condition_expression("#tat <= :limit")
            .expression_attribute_names("#tat", TAT)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_values(":step", n(step))
            .expression_attribute_values(":limit", n((now + ahead).saturating_sub(step)))
            .expression_attribute_values(":exp", AttributeValue::N(expires))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match stepped {
            Ok(output) => {
                let at = output
                    .attributes()
                    .and_then(|a| number(a, TAT))
                    .ok_or_else(|| PortError::rejected(BACKEND, "UpdateItem returned no time"))?;
                Ok(Advance::Taken { at })
            }
            Err(e) if conditional_failed(&e) => {
                let item = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(key_of(key)))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| classify(BACKEND, e))?;
                let at = item
                    .item()
                    .and_then(|i| number(i, TAT))
                    .unwrap_or(now + ahead);
                Ok(Advance::Refused { at })
            }
            Err(e) => Err(classify(BACKEND, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        validate(key, None)?;
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(BACKEND, e))
    }
}
