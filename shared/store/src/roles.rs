//! The runtime role: the PostgreSQL user every function connects as in AWS. It may read
//! and write rows and nothing else; migrations run as a separate role that owns the
//! schema (the deploy step, `pm-deploy`), so no request can change a table.

use aws_lc_rs::{digest, hmac, pbkdf2, rand};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pm_config::Redacted;

use crate::{Db, DbError};

/// PostgreSQL's own default for `scram_iterations`.
const SCRAM_ITERATIONS: u32 = 4096;

/// Creates the role `name` if it does not exist (else updates it), able to log in with
/// `password`, and grants it row access to every table and sequence of the `public`
/// schema, now and for tables later migrations create. Run after the migrations, as
/// the role that owns the schema; running it again is harmless and rotates the
/// password.
///
/// The password reaches the server only as a SCRAM-SHA-256 verifier, so neither the
/// server's statement log nor `pg_stat_activity` ever shows it.
pub async fn ensure_runtime_role(
    db: &Db,
    name: &str,
    password: &Redacted<String>,
) -> Result<(), DbError> {
    let verifier = scram_verifier(password.expose(), &random_salt())?;
    let client = db.client().await?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
        .await?
        .is_some();
    let verb = if exists { "ALTER" } else { "CREATE" };
    // `format` quotes on the server (%I an identifier, %L a literal): nothing here is
    // spliced into SQL by hand.
    let statements: Vec<String> = client
        .query_one(
            "SELECT format('%s ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', $1::text, $2::text, $3::text),
                    format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), $2),
                    format('GRANT USAGE ON SCHEMA public TO %I', $2),
                    format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', $2),
                    format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %I', $2),
                    format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', $2),
                    format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', $2)",
            &[&verb, &name, &verifier],
        )
        .await
        .map(|row| (0..row.len()).map(|i| row.get(i)).collect())?;
    for statement in statements {
        client.batch_execute(&statement).await?;
    }
    // Before PostgreSQL 15 every role could create tables in `public`; take that away
    // (on 15 and later this changes nothing).
    client
        .batch_execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        .await?;
    Ok(())
}

fn random_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt).expect("the OS random number generator works");
    salt
}

/// The SCRAM-SHA-256 verifier PostgreSQL stores for `password` with `salt`
/// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802 and 7677).
///
/// PostgreSQL normalises a password with SASLprep first; for printable ASCII that changes
/// nothing, and other passwords are refused rather than hashed differently from how the
/// server would.
pub fn scram_verifier(password: &str, salt: &[u8]) -> Result<String, DbError> {
    if password.is_empty() || !password.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(DbError::Config(pm_config::ConfigError::invalid(
            "DB_RUNTIME_SECRET",
            "the runtime role's password must be non-empty printable ASCII",
        )));
    }
    let mut salted = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        std::num::NonZeroU32::new(SCRAM_ITERATIONS).expect("non-zero"),
        salt,
        password.as_bytes(),
        &mut salted,
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, &salted);
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    Ok(format!(
        "SCRAM-SHA-256${SCRAM_ITERATIONS}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key.as_ref()),
        STANDARD.encode(server_key.as_ref())
    ))
}
