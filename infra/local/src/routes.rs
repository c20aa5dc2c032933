//! The route table: every public route, the Lambda function (template.yaml logical id)
//! and binary that serve it in AWS, and the handler the local runtime calls. A test
//! proves that template.yaml, openapi.yaml and this table list the same routes.

use futures::future::BoxFuture;
use pm_domain::Scope;
use pm_http::{ApiError, Body, Request, RequestId, Response};

use crate::App;

/// Who may call a route. Tests drive the scope and tenant-isolation checks from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials (health checks).
    Public,
    /// Any valid API key.
    AnyKey,
    /// An API key holding this scope.
    Key(Scope),
    /// A dashboard session.
    Session,
    /// An API key holding this scope, or a dashboard session (writes: owners, admins).
    KeyOrSession(Scope),
}

pub type Handler =
    for<'a> fn(Request, RequestId, &'a App) -> BoxFuture<'a, Result<Response<Body>, ApiError>>;

pub struct Route {
    pub method: &'static str,
    /// As in openapi.yaml: `{name}` marks a path parameter.
    pub path: &'static str,
    /// The function's logical id in template.yaml.
    pub function: &'static str,
    /// The binary (`src/bin/<name>.rs`) that runs it in Lambda.
    pub binary: &'static str,
    pub access: Access,
    pub handler: Handler,
}

const KEYS: &str = "/api/v1/platform/api-keys";

pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/health",
        function: "HealthFunction",
        binary: "health",
        access: Access::Public,
        handler: |req, id, app| Box::pin(pm_health::handle(req, id, &app.db)),
    },
    Route {
        method: "GET",
        path: "/api/v1/me",
        function: "MeFunction",
        binary: "me",
        access: Access::AnyKey,
        handler: |req, _, app| Box::pin(pm_account::me(req, &app.auth)),
    },
    Route {
        method: "POST",
        path: KEYS,
        function: "CreateApiKeyFunction",
        binary: "create_api_key",
        access: Access::Session,
        handler: |req, _, app| Box::pin(pm_api_keys::create(req, &app.sessions, &app.issuer)),
    },
    Route {
        method: "GET",
        path: KEYS,
        function: "ListApiKeysFunction",
        binary: "list_api_keys",
        access: Access::Session,
        handler: |req, _, app| Box::pin(pm_api_keys::list(req, &app.sessions, &app.db)),
    },
    Route {
        method: "DELETE",
        path: "/api/v1/platform/api-keys/{id}",
        function: "RevokeApiKeyFunction",
        binary: "revoke_api_key",
        access: Access::Session,
        handler: |req, _, app| {
            Box::pin(pm_api_keys::revoke(
                req,
                &app.sessions,
                &app.db,
                app.secrets.as_ref(),
            ))
        },
    },
    Route {
        method: "POST",
        path: "/api/v1/platform/api-keys/{id}/regenerate",
        function: "RegenerateApiKeyFunction",
        binary: "regenerate_api_key",
        access: Access::Session,
        handler: |req, _, app| Box::pin(pm_api_keys::regenerate(req, &app.sessions, &app.issuer)),
    },
    Route {
        method: "GET",
        path: "/api/v1/platform/api-keys/{id}/usage",
        function: "ApiKeyUsageFunction",
        binary: "api_key_usage",
        access: Access::Session,
        handler: |req, _, app| Box::pin(pm_api_keys::usage(req, &app.sessions, &app.db)),
    },
    Route {
        method: "GET",
        path: "/api/v1/contacts",
        function: "ListContactsFunction",
        binary: "list_contacts",
        access: Access::Key(Scope::ManageContacts),
        handler: |req, _, app| Box::pin(pm_contacts::list(req, &app.auth)),
    },
    Route {
        method: "POST",
        path: "/api/v1/contacts",
        function: "CreateContactFunction",
        binary: "create_contact",
        access: Access::Key(Scope::ManageContacts),
        handler: |req, _, app| Box::pin(pm_contacts::create(req, &app.auth)),
    },
    Route {
        method: "GET",
        path: "/api/v1/contacts/{id}",
        function: "GetContactFunction",
        binary: "get_contact",
        access: Access::Key(Scope::ManageContacts),
        handler: |req, _, app| Box::pin(pm_contacts::get(req, &app.auth)),
    },
    Route {
        method: "PUT",
        path: "/api/v1/contacts/{id}",
        function: "ReplaceContactFunction",
        binary: "replace_contact",
        access: Access::Key(Scope::ManageContacts),
        handler: |req, _, app| Box::pin(pm_contacts::replace(req, &app.auth)),
    },
    Route {
        method: "DELETE",
        path: "/api/v1/contacts/{id}",
        function: "DeleteContactFunction",
        binary: "delete_contact",
        access: Access::Key(Scope::ManageContacts),
        handler: |req, _, app| Box::pin(pm_contacts::delete(req, &app.auth)),
    },
    Route {
        method: "GET",
        path: "/api/v1/templates",
        function: "ListTemplatesFunction",
        binary: "list_templates",
        access: Access::Key(Scope::ManageTemplates),
        handler: |req, _, app| Box::pin(pm_templates::list(req, &app.auth)),
    },
    Route {
        method: "POST",
        path: "/api/v1/templates",
        function: "CreateTemplateFunction",
        binary: "create_template",
        access: Access::Key(Scope::ManageTemplates),
        handler: |req, _, app| Box::pin(pm_templates::create(req, &app.auth)),
    },
    Route {
        method: "GET",
        path: "/api/v1/templates/{id}",
        function: "GetTemplateFunction",
        binary: "get_template",
        access: Access::Key(Scope::ManageTemplates),
        handler: |req, _, app| Box::pin(pm_templates::get(req, &app.auth)),
    },
    Route {
        method: "PUT",
        path: "/api/v1/templates/{id}",
        function: "ReplaceTemplateFunction",
        binary: "replace_template",
        access: Access::Key(Scope::ManageTemplates),
        handler: |req, _, app| Box::pin(pm_templates::replace(req, &app.auth)),
    },
    Route {
        method: "DELETE",
        path: "/api/v1/templates/{id}",
        function: "DeleteTemplateFunction",
        binary: "delete_template",
        access: Access::Key(Scope::ManageTemplates),
        handler: |req, _, app| Box::pin(pm_templates::delete(req, &app.auth)),
    },
    Route {
        method: "POST",
        path: "/api/v1/templates/{id}/render",
        function: "RenderTemplateFunction",
        binary: "render_template",
        access: Access::Key(Scope::ManageTemplates),
        handler: |req, _, app| Box::pin(pm_templates::render(req, &app.auth)),
    },
    Route {
        method: "GET",
        path: "/api/v1/campaigns",
        function: "ListCampaignsFunction",
        binary: "list_campaigns",
        access: Access::Key(Scope::ManageCampaigns),
        handler: |req, _, app| Box::pin(pm_campaigns::list(req, &app.auth)),
    },
    Route {
        method: "POST",
        path: "/api/v1/campaigns",
        function: "CreateCampaignFunction",
        binary: "create_campaign",
        access: Access::Key(Scope::ManageCampaigns),
        handler: |req, _, app| Box::pin(pm_campaigns::create(req, &app.auth)),
    },
    Route {
        method: "GET",
        path: "/api/v1/campaigns/{id}",
        function: "GetCampaignFunction",
        binary: "get_campaign",
        access: Access::Key(Scope::ManageCampaigns),
        handler: |req, _, app| Box::pin(pm_campaigns::get(req, &app.auth)),
    },
    Route {
        method: "PUT",
        path: "/api/v1/campaigns/{id}",
        function: "ReplaceCampaignFunction",
        binary: "replace_campaign",
        access: Access::Key(Scope::ManageCampaigns),
        handler: |req, _, app| Box::pin(pm_campaigns::replace(req, &app.auth)),
    },
    Route {
        method: "DELETE",
        path: "/api/v1/campaigns/{id}",
        function: "DeleteCampaignFunction",
        binary: "delete_campaign",
        access: Access::Key(Scope::ManageCampaigns),
        handler: |req, _, app| Box::pin(pm_campaigns::delete(req, &app.auth)),
    },
    Route {
        method: "POST",
        path: "/api/v1/campaigns/{id}/start",
        function: "StartCampaignFunction",
        binary: "start_campaign",
        access: Access::Key(Scope::ManageCampaigns),
        handler: |req, _, app| Box::pin(pm_campaigns::start(req, &app.auth)),
    },
    Route {
        method: "POST",
        path: "/api/v1/campaigns/{id}/pause",
        function: "PauseCampaignFunction",
        binary: "pause_campaign",
        access: Access::Key(Scope::ManageCampaigns),
        handler: |req, _, app| Box::pin(pm_campaigns::pause(req, &app.auth)),
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks",
        function: "CreateWebhookFunction",
        binary: "create_webhook",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::create(req, &app.webhooks)),
    },
    Route {
        method: "GET",
        path: "/api/v1/webhooks",
        function: "ListWebhooksFunction",
        binary: "list_webhooks",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::list(req, &app.webhooks)),
    },
    Route {
        method: "GET",
        path: "/api/v1/webhooks/event-types",
        function: "ListWebhookEventTypesFunction",
        binary: "list_webhook_event_types",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::event_types(req, &app.webhooks)),
    },
    Route {
        method: "GET",
        path: "/api/v1/webhooks/{id}",
        function: "GetWebhookFunction",
        binary: "get_webhook",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::get(req, &app.webhooks)),
    },
    Route {
        method: "PUT",
        path: "/api/v1/webhooks/{id}",
        function: "ReplaceWebhookFunction",
        binary: "replace_webhook",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::replace(req, &app.webhooks)),
    },
    Route {
        method: "PATCH",
        path: "/api/v1/webhooks/{id}",
        function: "UpdateWebhookFunction",
        binary: "update_webhook",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::update(req, &app.webhooks)),
    },
    Route {
        method: "DELETE",
        path: "/api/v1/webhooks/{id}",
        function: "DeleteWebhookFunction",
        binary: "delete_webhook",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::delete(req, &app.webhooks)),
    },
    Route {
        method: "GET",
        path: "/api/v1/webhooks/{id}/secret",
        function: "GetWebhookSecretFunction",
        binary: "get_webhook_secret",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::secret(req, &app.webhooks)),
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks/{id}/rotate-secret",
        function: "RotateWebhookSecretFunction",
        binary: "rotate_webhook_secret",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::rotate_secret(req, &app.webhooks)),
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks/{id}/test",
        function: "TestWebhookFunction",
        binary: "test_webhook",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::test(req, &app.webhooks)),
    },
    Route {
        method: "GET",
        path: "/api/v1/webhooks/{id}/deliveries",
        function: "ListWebhookDeliveriesFunction",
        binary: "list_webhook_deliveries",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::deliveries(req, &app.webhooks)),
    },
    Route {
        method: "GET",
        path: "/api/v1/webhooks/{id}/deliveries/{delivery_id}",
        function: "GetWebhookDeliveryFunction",
        binary: "get_webhook_delivery",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::delivery(req, &app.webhooks)),
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
        function: "RetryWebhookDeliveryFunction",
        binary: "retry_webhook_delivery",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::retry(req, &app.webhooks)),
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks/{id}/recover",
        function: "RecoverWebhookFunction",
        binary: "recover_webhook",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::recover(req, &app.webhooks)),
    },
    Route {
        method: "GET",
        path: "/api/v1/webhooks/{id}/stats",
        function: "WebhookStatsFunction",
        binary: "webhook_stats",
        access: Access::KeyOrSession(Scope::ManageWebhooks),
        handler: |req, _, app| Box::pin(pm_webhooks::stats(req, &app.webhooks)),
    },
];
