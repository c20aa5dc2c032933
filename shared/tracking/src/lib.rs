//! Email tracking for PenguinMails.
//!
//! - [`sign`] / [`verify`]: compact HMAC-signed tokens that name an email and what the
//!   recipient did (opened it, clicked link *n*, unsubscribed), so tracking URLs need no
//!   database row of their own and cannot be forged or enumerated.
//! - [`track_html`]: rewrites the links of an HTML part to go through the click endpoint
//!   and appends the open pixel; [`unsubscribe_url`] builds the one-click unsubscribe link.
//!   Text parts are deliberately left alone (see [`link_rewrite`]).
//! - [`open_pixel_gif`]: the image the open endpoint serves.
//! - [`automated_reason`]: heuristics that flag hits made by scanners and privacy proxies
//!   rather than people.
//!
//! URL layout under the tracking base URL: `/t/o/{token}` (open pixel), `/t/c/{token}`
//! (click, redirects to the stored link), `/u/{token}` (unsubscribe).

pub mod automation;
mod entities;
mod html_scan;
pub mod keys;
pub mod link_rewrite;
pub mod open_pixel;
pub mod token;

pub use automation::automated_reason;
pub use keys::TrackingKeys;
pub use link_rewrite::{track_html, unsubscribe_url, Tracked, MAX_TRACKED_LINKS};
pub use open_pixel::open_pixel_gif;
pub use token::{sign, verify, Action, TokenError};
