//! The API reference served by the local runtime: Swagger UI's page and its assets (from
//! the npm package, no internet), the contract as YAML and JSON, nothing else.

use pm_local::routes::ROUTES;
use pm_tests::system::Sys;
use pm_tests::workspace_root;
use serde_json::Value;

async fn fetch(sys: &Sys, method: reqwest::Method, path: &str) -> (u16, String, Vec<u8>) {
    let response = sys
        .http
        .request(method, sys.url(path))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

#[tokio::test]
async fn swagger_ui_and_the_contract_are_served_without_the_internet() {
    let sys = Sys::start().await;
    let get = reqwest::Method::GET;
    let (status, content_type, page) = fetch(&sys, get.clone(), "/api/docs").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    let page = String::from_utf8(page).unwrap();
    // Every script and stylesheet the page loads is served here, none from elsewhere.
    let mut loaded = 0;
    for attribute in ["src=\"", "href=\""] {
        for part in page.split(attribute).skip(1) {
            let url = &part[..part.find('"').unwrap()];
            assert!(url.starts_with("/api/docs/"), "{url} is not served here");
            let (status, content_type, body) = fetch(&sys, get.clone(), url).await;
            assert_eq!(status, 200, "{url}");
            assert!(
                !content_type.is_empty() && body.len() > 100,
                "{url}: {content_type}, {} bytes",
                body.len()
            );
            loaded += 1;
        }
    }
    assert_eq!(loaded, 5, "icon, stylesheet, bundle, preset, init");

    // The guides and the Postman collection come from the same built site.
    for guides in [
        "/api/docs/guides",
        "/api/docs/guides/",
        "/api/docs/guides/index.html",
    ] {
        let (status, content_type, page) = fetch(&sys, get.clone(), guides).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "text/html; charset=utf-8"),
            "{guides}"
        );
        assert!(String::from_utf8(page)
            .unwrap()
            .contains("getting-started.html"));
    }
    let (status, _, collection) = fetch(&sys, get.clone(), "/api/docs/postman.json").await;
    assert_eq!(status, 200);
    let collection: Value = serde_json::from_slice(&collection).unwrap();
    assert_eq!(collection["info"]["name"], "PenguinMails Integrations API");
    let (_, _, init) = fetch(&sys, get.clone(), "/api/docs/init.js").await;
    assert!(String::from_utf8(init)
        .unwrap()
        .contains("\"/api/openapi.json\""));

    // The YAML is the repository's file; the JSON is the same contract with this server first.
    let file = std::fs::read_to_string(workspace_root().join("openapi.yaml")).unwrap();
    let (status, content_type, yaml) = fetch(&sys, get.clone(), "/api/openapi.yaml").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/yaml; charset=utf-8")
    );
    assert_eq!(String::from_utf8(yaml).unwrap(), file);
    let (status, _, json) = fetch(&sys, get.clone(), "/api/openapi.json").await;
    assert_eq!(status, 200);
    let mut served: Value = serde_json::from_slice(&json).unwrap();
    let this_server = served["servers"].as_array_mut().unwrap().remove(0);
    assert_eq!(
        this_server["url"],
        sys.running.base_url().trim_end_matches('/')
    );
    let expected: Value = serde_yaml::from_str(&file).unwrap();
    assert_eq!(served, expected);
    for route in ROUTES {
        assert!(
            served["paths"][route.path][route.method.to_lowercase()].is_object(),
            "{} {} is not in the served contract",
            route.method,
            route.path
        );
    }
    // "Try it out" calls the first server with the key a user authorizes with.
    let (status, _, me) = sys
        .call(reqwest::Method::GET, "/api/v1/me", sys.key(), None)
        .await;
    assert_eq!(status, 200, "{me}");

    // Only the page's own files: nothing else of the package or the disk.
    for path in [
        "/api/docs/package.json",
        "/api/docs/guides/../../../Cargo.toml",
        "/api/docs/guides/missing.html",
        "/api/docs/.hidden.html",
        "/api/docs/../../Cargo.toml",
        "/api/docs/%2e%2e/%2e%2e/Cargo.toml",
        "/api/docs/swagger-ui-bundle.js.map",
    ] {
        assert_eq!(fetch(&sys, get.clone(), path).await.0, 404, "{path}");
    }
    assert_eq!(fetch(&sys, reqwest::Method::POST, "/api/docs").await.0, 405);
    sys.stop().await;
}

/// In a real browser: Debian's Chromium, driven by playwright-core (docs/api), lists every
/// operation and webhook of the contract, authorizes with a key and gets a 200 from "Try
/// it out". The screenshot is kept at target/artifacts/api-docs.png.
#[tokio::test]
async fn the_reference_renders_and_try_it_out_works_in_chromium() {
    let spec: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(workspace_root().join("openapi.yaml")).unwrap(),
    )
    .unwrap();
    let operations = |section: &str| -> usize {
        spec[section]
            .as_mapping()
            .map(|items| {
                items
                    .values()
                    .flat_map(|item| item.as_mapping().unwrap().keys())
                    .filter(|method| {
                        matches!(
                            method.as_str(),
                            Some("get" | "post" | "put" | "patch" | "delete")
                        )
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    let expected = operations("paths") + operations("webhooks");
    assert!(expected > ROUTES.len(), "paths and webhooks");
    let sys = Sys::start().await;
    let screenshot = pm_tests::artifacts().join("api-docs.png");
    let _ = std::fs::remove_file(&screenshot);
    let run = tokio::process::Command::new("node")
        .arg(workspace_root().join("docs/api/check-in-browser.mjs"))
        .arg(sys.running.base_url())
        .arg(sys.key())
        .arg(expected.to_string())
        .arg(&screenshot)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), run)
        .await
        .expect("the browser check finishes within 2 minutes")
        .expect("node runs (make test installs docs/api and Chromium)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(result["operations"], expected);
    assert_eq!(result["try_it_out"], 200);
    let guides: Vec<&str> = result["guides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let sources = std::fs::read_dir(workspace_root().join("docs/guides"))
        .unwrap()
        .count();
    assert_eq!(
        guides.len(),
        sources,
        "every guide is linked and renders: {guides:?}"
    );
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);
    sys.stop().await;
}

/// In AWS the built site is served from a bucket through CloudFront, whose viewer-request
/// function (in template.yaml) maps the folder paths readers use to index files. The
/// function's own code, run in Node against the built tree, lands every path on a file.
#[tokio::test]
async fn the_cloudfront_function_maps_every_docs_path_to_a_built_file() {
    let paths = [
        "/api/docs",
        "/api/docs/",
        "/api/docs/guides",
        "/api/docs/guides/",
        "/api/docs/guides/webhooks.html",
        "/api/docs/init.js",
        "/api/docs/postman.json",
        "/api/openapi.json",
        "/api/openapi.yaml",
    ];
    let mapped = pm_tests::cloudfront_function("DocsIndexFunction", &paths).await;
    let site = workspace_root().join("docs/api/dist");
    for (path, key) in paths.iter().zip(&mapped) {
        assert!(
            site.join(key.trim_start_matches('/')).is_file(),
            "{path} -> {key}: no such file in docs/api/dist (make docs builds it)"
        );
    }
    assert_eq!(mapped[0], "/api/docs/index.html");
    assert_eq!(mapped[3], "/api/docs/guides/index.html");
}
