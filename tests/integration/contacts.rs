//! /api/v1/contacts over HTTP on the local runtime, against real PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;

use pm_auth::session::Role;
use pm_tests::system::{secret, Sys};
use reqwest::Method;
use serde_json::{json, Value};

const CONTACTS: &str = "/api/v1/contacts";

async fn create(sys: &Sys, key: &str, body: Value) -> Value {
    let (status, _, created) = sys.call(Method::POST, CONTACTS, key, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test]
async fn create_get_replace_delete() {
    let sys = Sys::start().await;
    let key = sys.key().to_string();
    let (status, headers, created) = sys
        .call(
            Method::POST,
            CONTACTS,
            &key,
            Some(json!({
                "email": "Ann@Example.com", "first_name": "Ann", "last_name": "Lee",
                "company": "Example", "tags": ["vip"], "custom_fields": {"seats": 12},
                "workspace_id": "6f1c1b5e-43a5-4f3e-9d7e-0c2b8f0e9a11"
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(headers["location"], format!("{CONTACTS}/{id}"));
    assert_eq!(created["status"], "subscribed");
    assert_eq!(created["custom_fields"]["seats"], 12);

    let (status, _, got) = sys
        .call(Method::GET, &format!("{CONTACTS}/{id}"), &key, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(got, created);

    // PUT replaces: omitted fields are cleared.
    let (status, _, replaced) = sys
        .call(
            Method::PUT,
            &format!("{CONTACTS}/{id}"),
            &key,
            Some(json!({"email": "ann@example.com", "status": "unsubscribed"})),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["email"], "ann@example.com");
    assert_eq!(replaced["first_name"], Value::Null);
    assert_eq!(replaced["tags"], json!([]));
    assert_eq!(replaced["status"], "unsubscribed");
    assert!(replaced["updated_at"].as_str() > created["updated_at"].as_str());
    assert_eq!(replaced["created_at"], created["created_at"]);

    assert_eq!(
        sys.event_types(&id).await,
        ["contact.created", "contact.updated"]
    );
    let (_, payload) = &sys.events(&id).await[1];
    assert_eq!(payload["status"], "unsubscribed");

    assert_eq!(
        sys.call(Method::DELETE, &format!("{CONTACTS}/{id}"), &key, None)
            .await
            .0,
        204
    );
    let (kind, payload) = sys.events(&id).await.pop().unwrap();
    assert_eq!(kind, "contact.deleted");
    assert_eq!(payload["email"], "ann@example.com", "the contact as it was");
    assert_eq!(
        sys.call(Method::GET, &format!("{CONTACTS}/{id}"), &key, None)
            .await
            .0,
        404
    );
    assert_eq!(
        sys.call(Method::DELETE, &format!("{CONTACTS}/{id}"), &key, None)
            .await
            .0,
        404
    );
    assert_eq!(
        sys.call(Method::GET, &format!("{CONTACTS}/not-a-uuid"), &key, None)
            .await
            .0,
        404
    );
    sys.stop().await;
}

#[tokio::test]
async fn emails_are_unique_per_tenant_in_any_case() {
    let sys = Sys::start().await;
    let key = sys.key().to_string();
    let first = create(&sys, &key, json!({"email": "bob@example.com"})).await;
    let (status, _, problem) = sys
        .call(
            Method::POST,
            CONTACTS,
            &key,
            Some(json!({"email": "BOB@Example.COM"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "contact_exists");
    assert_eq!(problem["existing_id"], first["id"]);

    // Renaming another contact onto a taken email is a 409 too, and changes nothing.
    let second = create(&sys, &key, json!({"email": "carol@example.com"})).await;
    let path = format!("{CONTACTS}/{}", second["id"].as_str().unwrap());
    let (status, _, problem) = sys
        .call(
            Method::PUT,
            &path,
            &key,
            Some(json!({"email": "Bob@example.com"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), &problem["existing_id"]),
        (409, &first["id"])
    );
    let (_, _, unchanged) = sys.call(Method::GET, &path, &key, None).await;
    assert_eq!(unchanged["email"], "carol@example.com");
    // A contact may change the case of its own email.
    let (status, _, _) = sys
        .call(
            Method::PUT,
            &path,
            &key,
            Some(json!({"email": "Carol@Example.com"})),
        )
        .await;
    assert_eq!(status, 200);
    // Failed writes left no events behind.
    assert_eq!(sys.events(second["id"].as_str().unwrap()).await.len(), 2);
    sys.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_precise_errors() {
    let sys = Sys::start().await;
    let key = sys.key().to_string();
    for (body, field, code) in [
        (json!({"email": "nope"}), "email", "invalid_email"),
        (
            json!({"email": "a@b.co", "nickname": "x"}),
            "body",
            "invalid_type",
        ),
        (json!({"first_name": "x"}), "body", "invalid_type"),
        (
            json!({"email": "a@b.co", "status": "gone"}),
            "status",
            "invalid_value",
        ),
        (
            json!({"email": "a@b.co", "custom_fields": {"bad key": 1}}),
            "custom_fields.bad key",
            "invalid_key",
        ),
        (
            json!({"email": "a@b.co", "tags": "vip"}),
            "body",
            "invalid_type",
        ),
    ] {
        let (status, _, problem) = sys
            .call(Method::POST, CONTACTS, &key, Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{body} → {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{body} → {problem}");
    }
    let response = sys
        .http
        .post(sys.url(CONTACTS))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = sys
        .http
        .post(sys.url(CONTACTS))
        .bearer_auth(&key)
        .header("content-type", "application/xml")
        .body("<contact/>")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    sys.stop().await;
}

#[tokio::test]
async fn another_tenant_shares_no_emails_and_sees_none_in_lists() {
    // (Every route's 404 for another tenant's id: access::every_route_enforces_its_declared_access.)
    let sys = Sys::start().await;
    let mine = create(
        &sys,
        sys.key(),
        json!({"email": "erin@example.com", "tags": ["t"]}),
    )
    .await;
    let my_path = format!("{CONTACTS}/{}", mine["id"].as_str().unwrap());
    let (_, other_session) = sys.other_tenant(Role::Owner).await;
    let theirs_key = secret(
        &sys.create_key(&other_session, "k", &["manage_contacts"])
            .await,
    );
    // Same email in another tenant is a different contact, not a conflict (and does not
    // reveal that the email exists elsewhere).
    let theirs = create(&sys, &theirs_key, json!({"email": "ERIN@example.com"})).await;
    assert_ne!(theirs["id"], mine["id"]);
    for query in ["", "?email=erin@example.com", "?tag=t", "?q=erin"] {
        let (_, _, list) = sys
            .call(
                Method::GET,
                &format!("{CONTACTS}{query}"),
                &theirs_key,
                None,
            )
            .await;
        let ids: Vec<&Value> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["id"])
            .collect();
        assert!(!ids.contains(&&mine["id"]), "{query}: {list}");
    }
    let (_, _, still) = sys.call(Method::GET, &my_path, sys.key(), None).await;
    assert_eq!(still["email"], "erin@example.com");
    sys.stop().await;
}

#[tokio::test]
async fn filters_sorting_and_offsets() {
    let sys = Sys::start().await;
    sys.unlimited().await;
    let key = sys.key().to_string();
    let ws = "0b7e3a2c-1d4f-4a6b-8c9d-0e1f2a3b4c5d";
    create(
        &sys,
        &key,
        json!({"email": "zoe@acme.io", "company": "Acme", "tags": ["vip"], "workspace_id": ws}),
    )
    .await;
    create(
        &sys,
        &key,
        json!({"email": "yan@beta.io", "first_name": "Yan", "status": "bounced"}),
    )
    .await;
    create(
        &sys,
        &key,
        json!({"email": "50%off@xia.io", "tags": ["vip", "beta"]}),
    )
    .await;
    let middle = chrono::Utc::now();
    create(
        &sys,
        &key,
        json!({"email": "wes@acme.io", "last_name": "100_percent"}),
    )
    .await;

    let emails = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["email"].as_str().unwrap().to_string())
            .collect()
    };
    let middle_param = middle.to_rfc3339().replace('+', "%2B");
    for (query, expected) in [
        (
            "?sort_by=email&order=asc",
            vec!["50%off@xia.io", "wes@acme.io", "yan@beta.io", "zoe@acme.io"],
        ),
        (
            "?tag=vip&sort_by=email&order=asc",
            vec!["50%off@xia.io", "zoe@acme.io"],
        ),
        ("?status=bounced", vec!["yan@beta.io"]),
        (&format!("?workspace={ws}"), vec!["zoe@acme.io"]),
        ("?email=ZOE@ACME.IO", vec!["zoe@acme.io"]),
        ("?q=acme&sort_by=email", vec!["zoe@acme.io", "wes@acme.io"]),
        ("?q=yan", vec!["yan@beta.io"]),
        ("?q=50%25", vec!["50%off@xia.io"]),
        ("?q=0_p", vec!["wes@acme.io"]),
        (
            &format!("?created_after={middle_param}"),
            vec!["wes@acme.io"],
        ),
        (
            &format!("?created_before={middle_param}&sort_by=email&order=asc"),
            vec!["50%off@xia.io", "yan@beta.io", "zoe@acme.io"],
        ),
        (
            "?sort_by=email&order=asc&limit=2&offset=1",
            vec!["wes@acme.io", "yan@beta.io"],
        ),
    ] {
        let (status, _, list) = sys
            .call(Method::GET, &format!("{CONTACTS}{query}"), &key, None)
            .await;
        assert_eq!(status, 200, "{query}: {list}");
        assert_eq!(emails(&list), expected, "{query}");
    }
    for (query, code) in [
        ("?status=gone", "invalid_parameter"),
        ("?q=_a", "invalid_parameter"),
        ("?offset=10001", "invalid_offset"),
        ("?workspace=w1", "invalid_parameter"),
        ("?created_after=yesterday", "invalid_parameter"),
        ("?sort_by=first_name", "invalid_sort"),
        ("?order=sideways", "invalid_order"),
        ("?limit=101", "invalid_limit"),
        ("?offset=-1", "invalid_offset"),
        ("?offset=1&cursor=abc", "invalid_pagination"),
        ("?cursor=abc", "invalid_cursor"),
    ] {
        let (status, _, problem) = sys
            .call(Method::GET, &format!("{CONTACTS}{query}"), &key, None)
            .await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str().unwrap()),
            (400, code),
            "{query}"
        );
    }
    sys.stop().await;
}

/// A cursor walk over 10,000 contacts while other contacts are inserted, sorting before
/// the walk's position: every pre-existing contact comes exactly once. (Offset paging
/// would repeat rows here, since each insert shifts everything after it.)
#[tokio::test]
async fn a_cursor_walk_sees_every_existing_contact_exactly_once_despite_inserts() {
    let sys = Arc::new(Sys::start().await);
    sys.unlimited().await;
    {
        let client = sys.running.app.db.client().await.unwrap();
        client
            .execute(
                "INSERT INTO contacts (tenant_id, email) \
                 SELECT $1, 'm' || lpad(n::text, 5, '0') || '@walk.test' FROM generate_series(1, 10000) n",
                &[&sys.running.tenant.id],
            )
            .await
            .unwrap();
    }
    let inserter = {
        let sys = sys.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                let body = json!({"email": format!("a{i:04}@walk.test")});
                let (status, _, _) = sys
                    .call(Method::POST, CONTACTS, sys.key(), Some(body))
                    .await;
                assert_eq!(status, 201);
            }
        })
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut path = format!("{CONTACTS}?limit=100&sort_by=email&order=asc");
    for _page in 0..200 {
        let (status, _, page) = sys.call(Method::GET, &path, sys.key(), None).await;
        assert_eq!(status, 200, "{page}");
        for contact in page["data"].as_array().unwrap() {
            *seen
                .entry(contact["email"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        match page["pagination"]["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("{CONTACTS}?limit=100&sort_by=email&order=asc&cursor={cursor}")
            }
            None => break,
        }
    }
    inserter.await.unwrap();
    let existing: Vec<(&String, &usize)> =
        seen.iter().filter(|(e, _)| e.starts_with('m')).collect();
    assert_eq!(
        existing.len(),
        10_000,
        "every pre-existing contact was seen"
    );
    assert!(existing.iter().all(|(_, n)| **n == 1), "none twice");
    Arc::into_inner(sys).unwrap().stop().await;
}

#[tokio::test]
async fn values_the_database_refuses_are_400_not_500() {
    use base64::Engine;
    let sys = Sys::start().await;
    let key = sys.key().to_string();
    let (status, _, problem) = sys
        .call(
            Method::POST,
            CONTACTS,
            &key,
            Some(json!({"email": "n@example.com", "custom_fields": {"note": "x\u{0}y"}})),
        )
        .await;
    // jsonb cannot hold a NUL: PostgreSQL refuses the value, the client gets a 400.
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (400, Some("invalid_value")),
        "{problem}"
    );
    let (status, _, _) = sys
        .call(Method::GET, &format!("{CONTACTS}?q=%00"), &key, None)
        .await;
    assert_eq!(status, 400);
    // A cursor whose value was altered to something that is not a timestamp.
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        json!({"s": "created_at", "o": "desc", "v": "garbage", "id": uuid::Uuid::nil()})
            .to_string(),
    );
    let (status, _, problem) = sys
        .call(
            Method::GET,
            &format!("{CONTACTS}?cursor={forged}"),
            &key,
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (400, Some("invalid_value"))
    );
    sys.stop().await;
}
