// Swagger UI over this server's own copy of the contract. "Authorize" takes an API key
// (pm_live_…) or a dashboard session token; both are sent as a Bearer token, and Swagger
// UI keeps them in this page only (not in storage).
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
  persistAuthorization: false,
  tryItOutEnabled: false,
});
