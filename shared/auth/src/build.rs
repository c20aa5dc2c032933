//! The auth layer's parts, built from a process's [`Deps`]: the same calls in every
//! Lambda main and in the local runtime.

use pm_runtime::{BoxError, Deps};

use crate::dashboard::SessionAuth;
use crate::issue::Issuer;
use crate::ratelimit::Limiter;
use crate::session::{SessionKey, SessionSigner};
use crate::usage::FlushMode;
use crate::{platform, ApiKeyAuth};

/// The API-key middleware: database (keys), secrets (pepper, key hashes), key-value
/// store (rate limits). Lambdas flush usage after each request; the local runtime in
/// the background.
pub async fn api_key_auth(deps: &Deps, flush: FlushMode) -> Result<ApiKeyAuth, BoxError> {
    let secrets = deps.secrets().await?;
    let pepper = platform::pepper(secrets.as_ref()).await?;
    Ok(
        ApiKeyAuth::new(deps.db().await?, secrets, deps.kv().await?, pepper, flush)
            .with_fallback_instances(deps.env().parsed_or(
                "RATE_LIMIT_FALLBACK_INSTANCES",
                crate::ratelimit::DEFAULT_FALLBACK_INSTANCES,
            )?),
    )
}

/// The dashboard session verifier: the issuer's public keys, from the secrets port.
pub async fn session_key(deps: &Deps) -> Result<SessionKey, BoxError> {
    let secrets = deps.secrets().await?;
    Ok(platform::session_key(secrets.as_ref()).await?)
}

/// Dashboard authentication: the session verifier and a rate limit per user.
pub async fn session_auth(deps: &Deps) -> Result<SessionAuth, BoxError> {
    Ok(SessionAuth::new(
        session_key(deps).await?,
        Limiter::new(deps.kv().await?).with_fallback_instances(deps.env().parsed_or(
            "RATE_LIMIT_FALLBACK_INSTANCES",
            crate::ratelimit::DEFAULT_FALLBACK_INSTANCES,
        )?),
    )
    .with_per_minute(deps.env().parsed_or(
        "DASHBOARD_REQUESTS_PER_MINUTE",
        crate::dashboard::SESSION_REQUESTS_PER_MINUTE,
    )?))
}

/// The session issuer's signing key: the local runtime's only (in AWS the PenguinMails
/// app issues sessions; no function here reads the private key).
pub async fn session_signer(deps: &Deps) -> Result<SessionSigner, BoxError> {
    let secrets = deps.secrets().await?;
    Ok(platform::session_signer(secrets.as_ref()).await?)
}

/// What creating and rolling keys needs.
pub async fn issuer(deps: &Deps) -> Result<Issuer, BoxError> {
    let secrets = deps.secrets().await?;
    let pepper = platform::pepper(secrets.as_ref()).await?;
    Ok(Issuer {
        db: deps.db().await?,
        secrets,
        pepper,
    })
}
