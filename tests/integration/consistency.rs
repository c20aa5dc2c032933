//! template.yaml, openapi.yaml, the route table, Cargo's lambda router metadata and the
//! queue catalog must describe the same system. These tests fail on any drift.

use std::collections::BTreeSet;
use std::process::Command;

use pm_local::routes::ROUTES;
use pm_ports::queue::catalog;
use pm_tests::workspace_root;
use serde_yaml::Value;

type RouteSet = BTreeSet<(String, String)>;

fn yaml(file: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join(file)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn resources(template: &Value) -> Vec<(String, Value)> {
    template["Resources"]
        .as_mapping()
        .expect("template has Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

fn functions(template: &Value) -> Vec<(String, Value)> {
    resources(template)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .collect()
}

/// (method, path, function logical id) for every HttpApi event in template.yaml.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let template = yaml("template.yaml");
    let mut routes = BTreeSet::new();
    for (name, function) in functions(&template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values() {
            if event["Type"] == "HttpApi" {
                let props = &event["Properties"];
                routes.insert((
                    props["Method"].as_str().unwrap().to_ascii_uppercase(),
                    props["Path"].as_str().unwrap().to_string(),
                    name.clone(),
                ));
            }
        }
    }
    routes
}

fn openapi_routes() -> RouteSet {
    let spec = yaml("openapi.yaml");
    let methods = ["get", "put", "post", "delete", "patch", "head", "options"];
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("openapi has paths") {
        for method in methods {
            if item.get(method).is_some() {
                routes.insert((
                    method.to_ascii_uppercase(),
                    path.as_str().unwrap().to_string(),
                ));
            }
        }
    }
    routes
}

fn table_routes() -> BTreeSet<(String, String, String)> {
    ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_string(),
                r.function.to_string(),
            )
        })
        .collect()
}

fn without_function(routes: &BTreeSet<(String, String, String)>) -> RouteSet {
    routes
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect()
}

#[test]
fn template_openapi_and_route_table_list_the_same_routes() {
    let table = table_routes();
    assert!(!table.is_empty());
    assert_eq!(
        template_routes(),
        table,
        "template.yaml vs the route table (with functions)"
    );
    assert_eq!(
        openapi_routes(),
        without_function(&table),
        "openapi.yaml vs the route table"
    );
}

#[test]
fn cargo_lambda_router_metadata_mirrors_the_route_table() {
    let text = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("[workspace.metadata.lambda.watch.router]");
    let mut routes = BTreeSet::new();
    for (path, entries) in router {
        for entry in entries.as_array().unwrap() {
            routes.insert((
                entry["method"].as_str().unwrap().to_string(),
                path.clone(),
                entry["function"].as_str().unwrap().to_string(),
            ));
        }
    }
    let expected: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_string(),
                r.binary.to_string(),
            )
        })
        .collect();
    assert_eq!(routes, expected);
}

/// Every function in template.yaml names (BuildProperties.Binary) a binary target of the
/// workspace, and routes name the same binary as their function. `.ci/run` builds every
/// binary (`cargo build --workspace --bins`), so "declared" here means "builds" there.
#[test]
fn every_template_function_has_a_binary() {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success());
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let binaries: BTreeSet<String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();

    let template = yaml("template.yaml");
    let functions = functions(&template);
    assert!(!functions.is_empty());
    for (name, function) in &functions {
        assert_eq!(
            function["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{name} builds with cargo-lambda"
        );
        let binary = function["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} names its binary"));
        assert!(
            binaries.contains(binary),
            "{name}: no binary target {binary:?}"
        );
        for route in ROUTES.iter().filter(|r| r.function == name) {
            assert_eq!(
                route.binary, binary,
                "{} {} binary",
                route.method, route.path
            );
        }
    }
}

#[test]
fn globals_match_the_design() {
    let globals = &yaml("template.yaml")["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(globals["LoggingConfig"]["LogFormat"], "JSON");
}

fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn template_queues_match_the_catalog() {
    let template = yaml("template.yaml");
    let declared: BTreeSet<(String, u64, u64)> = resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::SQS::Queue")
        .map(|(name, r)| {
            let props = &r["Properties"];
            (
                name,
                props["DelaySeconds"].as_u64().unwrap_or(0),
                props["VisibilityTimeout"].as_u64().unwrap_or(30),
            )
        })
        .collect();
    let expected: BTreeSet<(String, u64, u64)> = catalog::all()
        .iter()
        .map(|spec| {
            (
                format!("{}Queue", pascal_case(&spec.name)),
                spec.delay.as_secs(),
                spec.visibility_timeout.as_secs(),
            )
        })
        .collect();
    assert_eq!(declared, expected);
}

#[test]
fn the_state_table_expires_items_on_the_attribute_the_adapter_writes() {
    let template = yaml("template.yaml");
    let tables: Vec<_> = resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table")
        .collect();
    assert_eq!(tables.len(), 1, "one DynamoDB table");
    let props = &tables[0].1["Properties"];
    assert_eq!(props["KeySchema"][0]["AttributeName"], "pk");
    assert_eq!(
        props["TimeToLiveSpecification"]["AttributeName"],
        "expires_at"
    );
    assert_eq!(props["TimeToLiveSpecification"]["Enabled"], true);
}

#[test]
fn template_schedules_match_the_local_runtime() {
    let template = yaml("template.yaml");
    let mut scheduled = BTreeSet::new();
    for (name, function) in functions(&template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        if events
            .values()
            .any(|e| e["Type"] == "Schedule" || e["Type"] == "ScheduleV2")
        {
            scheduled.insert(name);
        }
    }
    let local: BTreeSet<String> = pm_local::schedules::SCHEDULES
        .iter()
        .map(|s| s.function.to_string())
        .collect();
    assert!(!local.is_empty());
    assert_eq!(scheduled, local);
}

/// The enum's wire names as openapi.yaml's schema of the same name lists them.
fn openapi_enum(schema: &str) -> Vec<String> {
    yaml("openapi.yaml")["components"]["schemas"][schema]["enum"]
        .as_sequence()
        .unwrap_or_else(|| panic!("openapi.yaml has no enum schema {schema}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn names<T: ToString>(all: &[T]) -> Vec<String> {
    all.iter().map(T::to_string).collect()
}

#[test]
fn every_published_enum_matches_its_openapi_schema() {
    use pm_domain::{EventType, Plan, Scope};
    use pm_webhook_delivery::model::{DeliveryStatus, WebhookState};
    use pm_webhook_delivery::policy::RetryPolicy;
    let cases = [
        ("Scope", names(Scope::ALL)),
        ("Plan", names(Plan::ALL)),
        ("EventType", names(EventType::ALL)),
        ("ContactStatus", names(pm_contacts::ContactStatus::ALL)),
        ("CampaignStatus", names(pm_campaigns::CampaignStatus::ALL)),
        ("WebhookState", names(WebhookState::ALL)),
        ("DeliveryStatus", names(DeliveryStatus::ALL)),
        ("RetryPolicy", names(RetryPolicy::ALL)),
        (
            "EmailStatus",
            names(pm_email_delivery::model::EmailStatus::ALL),
        ),
        (
            "EmailEventType",
            names(pm_email_delivery::model::EmailEventType::ALL),
        ),
    ];
    for (schema, code) in cases {
        assert_eq!(openapi_enum(schema), code, "{schema}");
    }
}

/// The Rust sources of the crates that answer requests (not tests).
fn product_sources() -> Vec<(std::path::PathBuf, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n != "tests" && n != "target")
                {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    for dir in ["functions", "shared", "infra/local/src"] {
        walk(&workspace_root().join(dir), &mut out);
    }
    out
}

/// The error-code reference: openapi.yaml's `ErrorCode` describes exactly the codes the
/// API returns. Every `ApiError` carries a `pm_http::Code` (its constructors take no
/// strings), so `Code::ALL` is every code the code base can return; and each is used.
#[test]
fn the_error_code_reference_lists_every_code_the_api_returns() {
    let spec = yaml("openapi.yaml");
    let documented: BTreeSet<String> = spec["components"]["schemas"]["ErrorCode"]["oneOf"]
        .as_sequence()
        .expect("openapi.yaml has components.schemas.ErrorCode.oneOf")
        .iter()
        .map(|entry| {
            assert!(
                entry["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{entry:?} has no description"
            );
            entry["const"].as_str().unwrap().to_string()
        })
        .collect();
    let declared: BTreeSet<String> = pm_http::Code::ALL.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        documented, declared,
        "openapi.yaml ErrorCode vs pm_http::Code"
    );
    assert_eq!(
        spec["components"]["schemas"]["Problem"]["properties"]["code"]["$ref"].as_str(),
        Some("#/components/schemas/ErrorCode")
    );
    let sources = product_sources();
    for code in pm_http::Code::ALL {
        let variant: String = code
            .as_str()
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        let used = sources.iter().any(|(path, text)| {
            !path.ends_with("codes.rs") && text.contains(&format!("Code::{variant}"))
        });
        assert!(
            used,
            "Code::{variant} ({code}) is declared but never returned"
        );
    }
}

/// Each workspace crate's name and the names of its normal (not dev) dependencies.
fn dependency_graph() -> std::collections::BTreeMap<String, Vec<String>> {
    let root: toml::Table = std::fs::read_to_string(workspace_root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    root["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| {
            let manifest: toml::Table = std::fs::read_to_string(
                workspace_root()
                    .join(member.as_str().unwrap())
                    .join("Cargo.toml"),
            )
            .unwrap()
            .parse()
            .unwrap();
            let deps = manifest
                .get("dependencies")
                .and_then(|d| d.as_table())
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            (
                manifest["package"]["name"].as_str().unwrap().to_string(),
                deps,
            )
        })
        .collect()
}

#[test]
fn lower_layers_and_workers_know_nothing_of_http() {
    let graph = dependency_graph();
    let http = ["pm-http", "lambda_http", "hyper", "hyper-util"];
    for start in [
        "pm-config",
        "pm-domain",
        "pm-store",
        "pm-ports",
        "pm-runtime",
        "pm-events",
        "pm-webhook-delivery",
        "pm-email-delivery",
        "pm-mail",
        "pm-tracking",
    ] {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start.to_string()];
        while let Some(name) = todo.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some(deps) = graph.get(&name) {
                todo.extend(deps.iter().cloned());
            }
        }
        let reached: Vec<_> = http.iter().filter(|h| seen.contains(**h)).collect();
        assert!(
            reached.is_empty(),
            "{start} depends (through {seen:?}) on {reached:?}"
        );
    }
}

/// The queue (catalog name) an SQS event's `Queue: !GetAtt <Name>Queue.Arn` points at.
fn queue_of(event: &Value) -> String {
    let Value::Tagged(tagged) = &event["Properties"]["Queue"] else {
        panic!("an SQS event names its queue with !GetAtt: {event:?}")
    };
    let target = tagged.value.as_str().unwrap();
    let logical = target
        .strip_suffix("Queue.Arn")
        .unwrap_or_else(|| panic!("{target}"));
    catalog::all()
        .into_iter()
        .map(|spec| spec.name)
        .find(|name| pascal_case(name) == logical)
        .unwrap_or_else(|| panic!("{target} is not a catalog queue"))
}

#[test]
fn template_consumers_match_the_local_runtime_and_report_partial_failures() {
    let template = yaml("template.yaml");
    let mut declared = BTreeSet::new();
    for (name, function) in functions(&template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values().filter(|e| e["Type"] == "SQS") {
            assert_eq!(
                event["Properties"]["FunctionResponseTypes"][0], "ReportBatchItemFailures",
                "{name}"
            );
            declared.insert((name.clone(), queue_of(event)));
        }
    }
    let local: BTreeSet<(String, String)> = pm_local::consumers::CONSUMERS
        .iter()
        .flat_map(|c| {
            (c.queues)()
                .into_iter()
                .map(|q| (c.function.to_string(), q.to_string()))
        })
        .collect();
    assert!(!local.is_empty());
    assert_eq!(declared, local);
}

#[test]
fn every_consumed_queue_has_a_dlq_and_outwaits_its_consumer_six_times() {
    let template = yaml("template.yaml");
    let all = resources(&template);
    let timeout_of = |function: &str| -> u64 {
        let f = &all.iter().find(|(n, _)| n == function).unwrap().1;
        f["Properties"]["Timeout"]
            .as_u64()
            .or_else(|| template["Globals"]["Function"]["Timeout"].as_u64())
            .unwrap()
    };
    for consumer in pm_local::consumers::CONSUMERS {
        for queue in (consumer.queues)() {
            let logical = format!("{}Queue", pascal_case(queue));
            let props = &all.iter().find(|(n, _)| *n == logical).unwrap().1["Properties"];
            let visibility = props["VisibilityTimeout"].as_u64().unwrap_or(30);
            assert!(
                visibility >= 6 * timeout_of(consumer.function),
                "{logical}: {visibility} s is under six times {}'s timeout",
                consumer.function
            );
            assert!(
                props["RedrivePolicy"]["deadLetterTargetArn"] != Value::Null,
                "{logical} has no DLQ"
            );
        }
    }
}

/// Every UPDATE and DELETE a request handler's store runs names the tenant in its own
/// WHERE: an earlier lock or lookup is not enough, since a statement may be reused.
#[test]
fn every_tenant_write_names_the_tenant_in_its_where() {
    for file in [
        "functions/contacts/src/store.rs",
        "functions/templates/src/store.rs",
        "functions/campaigns/src/store.rs",
        "functions/webhooks/src/store.rs",
        "functions/emails/src/lookups.rs",
        "functions/emails/src/providers.rs",
        "shared/auth/src/store.rs",
    ] {
        let source = std::fs::read_to_string(workspace_root().join(file)).unwrap();
        for (at, _) in source
            .match_indices("UPDATE ")
            .chain(source.match_indices("DELETE FROM "))
        {
            // The statement is the string literal around this position.
            let start = source[..at].rfind('"').unwrap();
            let end = at + source[at..].find('"').unwrap();
            let statement = &source[start..end];
            assert!(
                statement.contains("tenant_id"),
                "{file}: a write without the tenant: {statement}"
            );
        }
    }
}

/// A function that authenticates callers rate-limits them in the state table, and in
/// Lambda it must name that store (or it refuses to start).
#[test]
fn every_authenticating_function_names_its_rate_limit_store() {
    let template = yaml("template.yaml");
    for (name, function) in functions(&template) {
        let props = &function["Properties"];
        let policies = format!("{:?}", props["Policies"]);
        // A route that checks keys or sessions (the deploy setup creates the session
        // keys, but serves no request).
        let authenticates = props["Events"] != Value::Null
            && (policies.contains("ApiKeyAuthPolicy") || policies.contains("session_public_keys"));
        if authenticates {
            let vars = &props["Environment"]["Variables"];
            assert_eq!(vars["KV_BACKEND"], "dynamodb", "{name}");
            assert!(vars["KV_TABLE"] != Value::Null, "{name}");
            assert!(
                policies.contains("dynamodb:PutItem") || policies.contains("ApiKeyAuthPolicy"),
                "{name} may not write the state table"
            );
        }
    }
}

/// The tracking key is created by the runtime's provisioning (pm-auth) and read by the
/// email workers (which link no auth code): one name.
#[test]
fn the_tracking_key_has_one_name() {
    assert_eq!(
        pm_auth::platform::TRACKING_KEY_PATH,
        pm_email_delivery::TRACKING_KEY_PATH
    );
}

/// The time zones openapi.yaml offers are exactly the ones the code accepts (chrono-tz's
/// list, which the campaign sender and analytics read zones with).
#[test]
fn the_time_zone_list_is_the_one_the_code_reads() {
    let spec = yaml("openapi.yaml");
    let documented: BTreeSet<String> = spec["components"]["schemas"]["TimeZone"]["enum"]
        .as_sequence()
        .expect("openapi.yaml has components.schemas.TimeZone.enum")
        .iter()
        .map(|zone| zone.as_str().unwrap().to_string())
        .collect();
    let accepted: BTreeSet<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| zone.name().to_string())
        .collect();
    let missing: Vec<_> = accepted.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&accepted).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "openapi.yaml TimeZone: missing {missing:?}, not accepted {extra:?}"
    );
}

/// Every place in `value` that grants a Secrets Manager action, with whether it sits
/// inside `!If [UseSecretsManager, …]`.
fn secrets_manager_grants(value: &Value, guarded: bool, found: &mut Vec<(String, bool)>) {
    match value {
        Value::Tagged(tagged) => {
            let guards = tagged.tag == "If"
                && tagged.value.as_sequence().and_then(|s| s.first())
                    == Some(&Value::from("UseSecretsManager"));
            secrets_manager_grants(&tagged.value, guarded || guards, found);
        }
        Value::Mapping(map) => {
            if let Some(action) = map.get("Action") {
                let text = format!("{action:?}");
                if text.contains("secretsmanager:") {
                    found.push((text, guarded));
                }
            }
            for item in map.values() {
                secrets_manager_grants(item, guarded, found);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                secrets_manager_grants(item, guarded, found);
            }
        }
        _ => {}
    }
}

/// With `SecretsBackend=vault` the functions hold no Secrets Manager permission at all:
/// every grant is conditional on the aws backend. And the Vault Lambda extension, when
/// its layer is given, is attached to every function with its settings.
#[test]
fn with_vault_no_function_may_touch_secrets_manager_and_the_extension_is_attached() {
    let template = yaml("template.yaml");
    let mut found = Vec::new();
    // A resource that exists only with the aws backend guards everything in it.
    for (_, resource) in resources(&template) {
        let conditional = resource["Condition"] == "UseSecretsManager";
        secrets_manager_grants(&resource, conditional, &mut found);
    }
    assert!(found.len() >= 40, "the grants are found: {}", found.len());
    // Nor does the stack create a Secrets Manager resource with vault.
    for (name, resource) in resources(&template) {
        if resource["Type"]
            .as_str()
            .is_some_and(|t| t.starts_with("AWS::SecretsManager::"))
        {
            assert_eq!(resource["Condition"], "UseSecretsManager", "{name}");
        }
    }
    let unguarded: Vec<&String> = found
        .iter()
        .filter(|(_, guarded)| !guarded)
        .map(|(action, _)| action)
        .collect();
    assert!(
        unguarded.is_empty(),
        "granted with vault too: {unguarded:?}"
    );

    let globals = &template["Globals"]["Function"];
    let condition = |value: &Value| match value {
        Value::Tagged(t) if t.tag == "If" => t.value[0].as_str().map(str::to_string),
        _ => None,
    };
    assert_eq!(
        condition(&globals["Layers"]).as_deref(),
        Some("UseVaultExtension")
    );
    let vars = &globals["Environment"]["Variables"];
    for name in ["VLE_VAULT_ADDR", "VAULT_AUTH_PROVIDER", "VAULT_AUTH_ROLE"] {
        assert_eq!(
            condition(&vars[name]).as_deref(),
            Some("UseVaultExtension"),
            "{name}"
        );
    }
}

/// An environment's `parameter_overrides` as (name, value) pairs: SAM takes one string of
/// `Name=Value` pairs or a list of them.
fn parameter_overrides(env: &toml::Table) -> Vec<(String, String)> {
    let pairs: Vec<String> = match &env["deploy"]["parameters"]["parameter_overrides"] {
        toml::Value::String(text) => text.split_whitespace().map(str::to_string).collect(),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().expect("a Name=Value string").to_string())
            .collect(),
        other => panic!("parameter_overrides: {other:?}"),
    };
    pairs
        .iter()
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or_else(|| panic!("{pair}"));
            (key.to_string(), value.to_string())
        })
        .collect()
}

fn samconfig() -> toml::Table {
    let text = std::fs::read_to_string(workspace_root().join("samconfig.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

/// samconfig.toml: environments with their region and stack, overrides that name real
/// template parameters and give every parameter that has no default (a command-line
/// `--parameter-overrides` would replace the whole list, so nothing is left to it), no
/// NoEcho parameter (no secret in this file), no SAM build cache (it hashes the whole
/// repository), and a CI environment that deploys without waiting at a prompt.
#[test]
fn samconfig_environments_are_complete_and_ci_never_prompts() {
    let config = samconfig();
    let template = yaml("template.yaml");
    let parameters = template["Parameters"].as_mapping().unwrap();
    let required: Vec<&str> = parameters
        .iter()
        .filter(|(_, p)| p.get("Default").is_none())
        .map(|(name, _)| name.as_str().unwrap())
        .collect();
    assert!(required.contains(&"DatabaseHost"), "{required:?}");
    let environments: Vec<&String> = config.keys().filter(|k| *k != "version").collect();
    for name in ["default", "staging", "production", "ci"] {
        assert!(environments.contains(&&name.to_string()), "{name}");
    }
    for name in environments {
        let env = config[name].as_table().unwrap();
        let global = env["global"]["parameters"].as_table().unwrap();
        assert!(
            global.contains_key("region") && global.contains_key("stack_name"),
            "{name}"
        );
        assert!(
            env.get("build")
                .and_then(|b| b["parameters"].get("cached"))
                .is_none(),
            "{name}: no SAM build cache"
        );
        let overrides = parameter_overrides(env);
        for (key, _) in &overrides {
            assert!(
                parameters.contains_key(key.as_str()),
                "{name}: {key} is no template parameter"
            );
            assert!(
                parameters[key.as_str()]["NoEcho"] != Value::Bool(true),
                "{name}: {key} is a secret; it has no place here"
            );
        }
        for key in &required {
            assert!(
                overrides.iter().any(|(k, _)| k == key),
                "{name}: no value for {key}"
            );
        }
    }
    assert_eq!(
        config["ci"]["deploy"]["parameters"]["confirm_changeset"].as_bool(),
        Some(false)
    );
}

/// The HTTP API throttles every route before a function runs and writes one JSON access
/// line per request, with its request id and latencies, to a log group that expires.
#[test]
fn the_http_api_throttles_and_logs_each_request_as_json() {
    let template = yaml("template.yaml");
    let api = &template["Resources"]["HttpApi"]["Properties"];
    let routes = &api["DefaultRouteSettings"];
    assert!(
        routes["ThrottlingRateLimit"] != Value::Null
            && routes["ThrottlingBurstLimit"] != Value::Null
    );
    let format = api["AccessLogSettings"]["Format"].as_str().unwrap();
    let line: serde_json::Value = serde_json::from_str(format).expect("the access log is JSON");
    for field in [
        "requestId",
        "status",
        "responseLatencyMs",
        "integrationLatencyMs",
        "routeKey",
    ] {
        assert!(line.get(field).is_some(), "{field}");
    }
    let group = &template["Resources"]["ApiAccessLogs"];
    assert_eq!(group["Type"], "AWS::Logs::LogGroup");
    assert!(group["Properties"]["RetentionInDays"] != Value::Null);
}

/// Operations: the outbox lag alarm watches the metric the relay writes (by name), every
/// dead-letter queue has an alarm on its depth, the dispatcher's failures and the API's
/// 5xx rate are watched, and every alarm notifies the topic when one is given.
#[test]
fn alarms_watch_the_outbox_lag_every_dlq_dispatcher_failures_and_5xx() {
    let template = yaml("template.yaml");
    let all = resources(&template);
    let alarms: Vec<&(String, Value)> = all
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    let lag = &template["Resources"]["OutboxLagAlarm"]["Properties"];
    assert_eq!(lag["MetricName"], pm_events::LAG_METRIC);
    assert_eq!(lag["Namespace"], pm_events::METRIC_NAMESPACE);
    let dlqs: Vec<&String> = all
        .iter()
        .filter(|(name, r)| r["Type"] == "AWS::SQS::Queue" && name.contains("Dlq"))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(dlqs.len(), 4, "{dlqs:?}");
    for dlq in dlqs {
        let watched = alarms.iter().any(|(_, alarm)| {
            format!("{:?}", alarm["Properties"]["Dimensions"]).contains(dlq.as_str())
        });
        assert!(watched, "{dlq} has no alarm");
    }
    let dispatcher = &template["Resources"]["DispatcherErrorsAlarm"]["Properties"];
    assert!(format!("{:?}", dispatcher["Dimensions"]).contains("WebhookDispatcherFunction"));
    let api = format!(
        "{:?}",
        template["Resources"]["Api5xxRateAlarm"]["Properties"]["Metrics"]
    );
    assert!(api.contains("5xx") && api.contains("HttpApi"), "{api}");
    for (name, alarm) in alarms {
        let actions = format!("{:?}", alarm["Properties"]["AlarmActions"]);
        assert!(actions.contains("AlarmTopicArn"), "{name} notifies no one");
    }
}

/// The functions that never open a database connection: the dashboard session routes
/// (`pm_auth::build::session_auth` takes no database: signed tokens, the state table).
const WITHOUT_DATABASE: [&str; 3] = [
    "CreateSessionFunction",
    "GetSessionFunction",
    "DeleteSessionFunction",
];

fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

/// Every parameter name a value refers to (`!Ref`, `!Sub`'s `${…}`), at any depth.
fn referenced_names(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Tagged(t) => {
            if t.tag == "Ref" {
                out.extend(t.value.as_str().map(str::to_string));
            }
            if t.tag == "Sub" {
                let text = t.value.as_str().unwrap_or_default();
                for piece in text.split("${").skip(1) {
                    out.extend(piece.split('}').next().map(str::to_string));
                }
            }
            referenced_names(&t.value, out);
        }
        Value::Mapping(map) => map.values().for_each(|v| referenced_names(v, out)),
        Value::Sequence(items) => items.iter().for_each(|v| referenced_names(v, out)),
        _ => {}
    }
}

/// What #13 asked for: every function that reaches the database is in the VPC (beside
/// the proxy), reads its credentials from the runtime secret, holds a reservation of
/// its connections, and has no plaintext secret in its environment.
#[test]
fn database_functions_are_in_the_vpc_with_credentials_from_a_secret_and_no_plaintext_secret() {
    let template = yaml("template.yaml");
    let globals = &template["Globals"]["Function"];
    let vpc = &globals["VpcConfig"];
    assert_eq!(
        tagged(&vpc["SubnetIds"], "Ref"),
        Some(&Value::from("SubnetIds"))
    );
    assert_eq!(
        tagged(&vpc["SecurityGroupIds"], "Ref"),
        Some(&Value::from("SecurityGroupIds"))
    );
    let vars = &globals["Environment"]["Variables"];
    let url = tagged(&vars["DATABASE_URL"], "Sub")
        .and_then(Value::as_str)
        .expect("DATABASE_URL is built from parameters");
    assert!(!url.contains('@'), "no user or password in {url}");
    assert!(url.ends_with("?sslmode=verify-full"), "{url}");
    assert_eq!(vars["DATABASE_SECRET"], "platform/database_runtime");
    assert!(template["Parameters"]["DatabaseUrl"] == Value::Null);

    let no_echo: BTreeSet<String> = template["Parameters"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, p)| p["NoEcho"] == Value::Bool(true))
        .map(|(name, _)| name.as_str().unwrap().to_string())
        .collect();
    let secretish = |name: &str| {
        ["PASSWORD", "SECRET_KEY", "TOKEN", "PEPPER", "PRIVATE"]
            .iter()
            .any(|word| name.contains(word))
    };
    let mut checked = 0;
    for (name, function) in functions(&template) {
        let props = &function["Properties"];
        assert!(
            props["VpcConfig"] == Value::Null,
            "{name} leaves the VPC of Globals"
        );
        for env in [&globals["Environment"], &props["Environment"]] {
            let mut names = BTreeSet::new();
            referenced_names(env, &mut names);
            let leaked: Vec<_> = names.intersection(&no_echo).collect();
            assert!(
                leaked.is_empty(),
                "{name}: a NoEcho parameter in its environment: {leaked:?}"
            );
            for (var, value) in env["Variables"].as_mapping().into_iter().flatten() {
                let var = var.as_str().unwrap();
                assert!(
                    !(secretish(var) && value.is_string()),
                    "{name}: {var} holds a literal secret"
                );
            }
        }
        if WITHOUT_DATABASE.contains(&name.as_str()) || name == "DeploySetupFunction" {
            continue;
        }
        checked += 1;
        let policies = format!("{:?}", props["Policies"]);
        assert!(
            policies.contains("DatabaseAccessPolicy"),
            "{name} reaches the database without the runtime secret's grant"
        );
        assert!(
            props["ReservedConcurrentExecutions"] != Value::Null,
            "{name} holds connections without a reservation"
        );
    }
    assert!(checked > 60, "{checked}");
    // The grant names the secret the stack creates, the one the deploy setup turns into
    // the runtime role.
    let secret = &template["Resources"]["DatabaseRuntimeSecret"]["Properties"];
    assert_eq!(secret["Name"], "penguinmails/platform/database_runtime");
    let generated = &secret["GenerateSecretString"];
    assert_eq!(generated["GenerateStringKey"], "password");
    assert_eq!(
        generated["ExcludePunctuation"], true,
        "the SCRAM verifier takes printable ASCII"
    );
}

/// The connections the functions that reach the database may hold, with these parameter
/// values (a parameter not in `values` at its default): each container holds one
/// (DB_POOL_SIZE=1), so it is the sum of their reserved concurrency.
fn reserved_connections(template: &Value, values: &[(String, String)]) -> u64 {
    let value_of = |name: &str| -> u64 {
        match values.iter().find(|(k, _)| k == name) {
            Some((_, v)) => v.parse().unwrap_or_else(|_| panic!("{name}={v}")),
            None => template["Parameters"][name]["Default"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name} has a numeric default")),
        }
    };
    let mut total = 0;
    for (name, function) in functions(template) {
        if WITHOUT_DATABASE.contains(&name.as_str()) {
            continue;
        }
        let reserved = &function["Properties"]["ReservedConcurrentExecutions"];
        total += match tagged(reserved, "Ref") {
            Some(parameter) => value_of(parameter.as_str().unwrap()),
            None => reserved
                .as_u64()
                .unwrap_or_else(|| panic!("{name} has no reservation: {reserved:?}")),
        };
    }
    let budget = value_of("DatabaseConnectionBudget");
    assert!(
        total <= budget,
        "{total} connections reserved; the budget is {budget} ({values:?})"
    );
    total
}

/// Each container holds one connection (DB_POOL_SIZE=1), so the reservations of the
/// functions that reach the database fit the budget of connections the proxy opens for
/// the stack: at the parameters' defaults, and in every samconfig.toml environment. A
/// queue consumer's reservation is at least what its event sources may hand it at once
/// (a throttled batch goes back to the queue and counts towards its DLQ).
#[test]
fn reserved_concurrency_fits_the_database_connection_budget() {
    let template = yaml("template.yaml");
    assert_eq!(
        template["Globals"]["Function"]["Environment"]["Variables"]["DB_POOL_SIZE"],
        "1"
    );
    let at_defaults = reserved_connections(&template, &[]);
    // Lambda keeps 100 of an account's (default 1,000) executions unreserved.
    assert!(at_defaults <= 900, "{at_defaults}");
    let config = samconfig();
    for (name, env) in config.iter().filter(|(k, _)| *k != "version") {
        let total = reserved_connections(&template, &parameter_overrides(env.as_table().unwrap()));
        assert!(total <= 900, "{name}: {total}");
    }

    for (name, function) in functions(&template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        let handed: u64 = events
            .values()
            .filter(|e| e["Type"] == "SQS")
            .map(|e| {
                e["Properties"]["ScalingConfig"]["MaximumConcurrency"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("{name}: an SQS source without a cap"))
            })
            .sum();
        if handed > 0 {
            let reserved = function["Properties"]["ReservedConcurrentExecutions"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: a literal reservation"));
            assert!(
                reserved >= handed,
                "{name}: {reserved} reserved, its queues may hand it {handed}"
            );
        }
    }
}

/// Every log group expires its events, and every function logs to a declared group
/// (Lambda's own `/aws/lambda/…` groups would keep everything forever).
#[test]
fn every_log_group_has_a_retention_and_every_function_logs_to_one() {
    let template = yaml("template.yaml");
    let groups: Vec<(String, Value)> = resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup")
        .collect();
    assert!(groups.len() >= 2);
    for (name, group) in &groups {
        assert!(
            group["Properties"]["RetentionInDays"] != Value::Null,
            "{name}"
        );
    }
    let logging = &template["Globals"]["Function"]["LoggingConfig"];
    let target = tagged(&logging["LogGroup"], "Ref")
        .and_then(Value::as_str)
        .unwrap();
    assert!(groups.iter().any(|(name, _)| name == target));
    for (name, function) in functions(&template) {
        let own = &function["Properties"]["LoggingConfig"];
        assert!(
            *own == Value::Null || own["LogGroup"] != Value::Null,
            "{name} logs outside the declared groups"
        );
    }
    assert_eq!(template["Globals"]["Function"]["Tracing"], "Active");
}

/// Migrations, the runtime role and the platform secrets are made at deploy time, by the
/// deploy_setup binary as a custom resource that runs again whenever its code changes,
/// as the migration role, and the API routes nothing before it finished.
#[test]
fn the_deploy_setup_runs_on_every_deploy_before_the_api() {
    let template = yaml("template.yaml");
    let resources = &template["Resources"];
    let setup = &resources["DeploySetup"];
    assert_eq!(setup["Type"], "Custom::DeploySetup");
    let props = &setup["Properties"];
    assert_eq!(
        tagged(&props["ServiceToken"], "GetAtt"),
        Some(&Value::from("DeploySetupFunction.Arn"))
    );
    assert_eq!(
        tagged(&props["CodeVersion"], "Ref"),
        Some(&Value::from("DeploySetupFunction.Version"))
    );
    let function = &resources["DeploySetupFunction"];
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"],
        "deploy_setup"
    );
    let fprops = &function["Properties"];
    assert!(
        fprops["AutoPublishAlias"] != Value::Null,
        "Version needs a published alias"
    );
    let vars = &fprops["Environment"]["Variables"];
    assert_eq!(vars["DATABASE_SECRET"], "platform/database_migration");
    assert_eq!(vars["DB_RUNTIME_SECRET"], "platform/database_runtime");
    assert!(fprops["Events"] == Value::Null, "it serves no request");
    assert_eq!(resources["HttpApi"]["DependsOn"], "DeploySetup");
    // Only it may read the migration role's credentials (under platform/), and it may
    // create the platform secrets it provisions; with the aws backend only.
    let policies = format!("{:?}", fprops["Policies"]);
    for needed in [
        "secretsmanager:GetSecretValue",
        "penguinmails/platform/*",
        "secretsmanager:CreateSecret",
        "secretsmanager:PutSecretValue",
    ] {
        assert!(policies.contains(needed), "DeploySetupFunction: {needed}");
    }
    // And no function runs this deploy's code before its migrations did.
    for (name, function) in functions(&template) {
        if name != "DeploySetupFunction" {
            assert_eq!(function["DependsOn"], "DeploySetup", "{name}");
        }
    }
}

/// The source of a function's binary (functions/*/src/bin/<binary>.rs).
fn binary_source(function: &Value) -> String {
    let binary = function["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .unwrap();
    for entry in std::fs::read_dir(workspace_root().join("functions")).unwrap() {
        let path = entry.unwrap().path().join(format!("src/bin/{binary}.rs"));
        if path.exists() {
            return std::fs::read_to_string(path).unwrap();
        }
    }
    panic!("no source for {binary}")
}

/// The text of `fn name` in `source`, to its closing brace at the start of a line.
fn function_body<'a>(source: &'a str, name: &str) -> &'a str {
    let start = source
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("fn {name}"));
    let end = start + source[start..].find("\n}\n").unwrap();
    &source[start..end]
}

/// The functions given neither the database grant nor a reservation really open no
/// connection: their mains build nothing that reaches the database, and the session
/// verifier they build takes none. (Should one start to, its cold start would fail in
/// AWS for want of the runtime secret: this test fails first.)
#[test]
fn the_functions_without_the_database_open_no_connection() {
    let template = yaml("template.yaml");
    for name in WITHOUT_DATABASE {
        let source = binary_source(&template["Resources"][name]);
        for reaches in ["db()", "api_key_auth", "build::issuer", "::build("] {
            assert!(!source.contains(reaches), "{name} calls {reaches}");
        }
    }
    let build = std::fs::read_to_string(workspace_root().join("shared/auth/src/build.rs")).unwrap();
    for verifier in ["session_auth", "session_key"] {
        assert!(
            !function_body(&build, verifier).contains("db()"),
            "pm_auth::build::{verifier} opens the database"
        );
    }
}

/// The functions reach the AWS APIs from their private subnets through endpoints (when
/// CreateVpcEndpoints): Secrets Manager (aws backend only) and SQS with private DNS, open
/// to the functions' group on 443, DynamoDB and S3 (CloudFormation's response bucket) as
/// gateways on the given route tables.
#[test]
fn the_vpc_endpoints_serve_the_functions() {
    let template = yaml("template.yaml");
    let resources = &template["Resources"];
    let interface = |name: &str, service: &str, condition: &str| {
        let endpoint = &resources[name];
        assert_eq!(endpoint["Type"], "AWS::EC2::VPCEndpoint", "{name}");
        assert_eq!(endpoint["Condition"], condition, "{name}");
        let props = &endpoint["Properties"];
        assert_eq!(props["VpcEndpointType"], "Interface", "{name}");
        assert_eq!(props["PrivateDnsEnabled"], true, "{name}");
        assert!(
            format!("{:?}", props["ServiceName"]).contains(service),
            "{name}"
        );
        assert_eq!(
            tagged(&props["SubnetIds"], "Ref"),
            Some(&Value::from("SubnetIds"))
        );
        assert!(format!("{:?}", props["SecurityGroupIds"]).contains("EndpointSecurityGroup"));
    };
    interface(
        "SecretsManagerEndpoint",
        ".secretsmanager",
        "CreateSecretsManagerEndpoint",
    );
    interface("SqsEndpoint", ".sqs", "CreateEndpoints");
    for (name, service) in [("DynamoDbEndpoint", ".dynamodb"), ("S3Endpoint", ".s3")] {
        let props = &resources[name]["Properties"];
        assert_eq!(props["VpcEndpointType"], "Gateway", "{name}");
        assert!(
            format!("{:?}", props["ServiceName"]).contains(service),
            "{name}"
        );
        assert_eq!(
            tagged(&props["RouteTableIds"], "Ref"),
            Some(&Value::from("RouteTableIds"))
        );
    }
    let ingress = &resources["EndpointSecurityGroup"]["Properties"]["SecurityGroupIngress"];
    let rules = ingress.as_sequence().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["FromPort"], 443);
    assert_eq!(rules[0]["ToPort"], 443);
    assert!(format!("{:?}", rules[0]["SourceSecurityGroupId"]).contains("SecurityGroupIds"));
}

/// CORS only for a dashboard on another origin: that origin alone, with credentials (the
/// session cookie), and the headers the dashboard's client sends.
#[test]
fn cors_admits_only_the_dashboard_origin_with_its_headers() {
    let template = yaml("template.yaml");
    let cors = tagged(
        &template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"],
        "If",
    )
    .expect("CorsConfiguration is conditional");
    assert_eq!(cors[0], "HasDashboardOrigin");
    assert_eq!(tagged(&cors[2], "Ref"), Some(&Value::from("AWS::NoValue")));
    let config = &cors[1];
    let origins = config["AllowOrigins"].as_sequence().unwrap();
    assert_eq!(origins.len(), 1);
    assert_eq!(
        tagged(&origins[0], "Ref"),
        Some(&Value::from("DashboardOrigin"))
    );
    assert_eq!(config["AllowCredentials"], true);
    let client = std::fs::read_to_string(workspace_root().join("web/src/api/client.ts")).unwrap();
    assert!(
        client.contains("X-CSRF-Token"),
        "the dashboard's CSRF header"
    );
    let headers = format!("{:?}", config["AllowHeaders"]);
    for header in [
        "Content-Type",
        "X-CSRF-Token",
        "Authorization",
        "Idempotency-Key",
    ] {
        assert!(headers.contains(header), "{header}");
    }
    assert_eq!(template["Parameters"]["DashboardOrigin"]["Default"], "");
}
