//! The figures every report shows, and how each rate is defined.
//!
//! `Counts` are the raw counters (one per column of `email_stats`); `Figures` is what a
//! client reads: the counts grouped by kind, and the rates.

use serde::Serialize;
use tokio_postgres::Row;

/// Declares the counters once: the struct, its column list, reading a row, adding.
macro_rules! counters {
    ($($name:ident),+ $(,)?) => {
        /// Counters over some slice of mail and some stretch of time.
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        pub struct Counts {
            $(pub $name: i64,)+
        }

        impl Counts {
            /// The `email_stats` columns, in declaration order.
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($name)),+];

            /// Reads the counters from `row`, starting at column `first`.
            pub fn from_row(row: &Row, first: usize) -> Result<Self, tokio_postgres::Error> {
                let mut i = first;
                let mut next = || {
                    i += 1;
                    row.try_get::<_, i64>(i - 1)
                };
                Ok(Self { $($name: next()?,)+ })
            }

            /// The counters' values, in `COLUMNS` order.
            pub fn values(&self) -> Vec<i64> {
                vec![$(self.$name),+]
            }

            pub fn add(&mut self, other: &Counts) {
                $(self.$name += other.$name;)+
            }
        }
    };
}

counters!(
    sent,
    contacted,
    failed,
    delivered,
    opens,
    unique_opens,
    automated_opens,
    clicks,
    unique_clicks,
    automated_clicks,
    replies,
    unique_replies,
    bounces,
    hard_bounces,
    soft_bounces,
    unsubscribes,
    complaints,
);

impl Counts {
    /// `sum(col)::bigint AS col, …` for every counter (a sum of bigints is numeric).
    pub fn sums() -> String {
        Self::COLUMNS
            .iter()
            .map(|c| format!("coalesce(sum({c}), 0)::bigint AS {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn rates(&self) -> Rates {
        Rates {
            delivery: rate(self.delivered, self.sent),
            bounce: rate(self.bounces, self.sent),
            open: rate(self.unique_opens, self.delivered),
            click: rate(self.unique_clicks, self.delivered),
            reply: rate(self.unique_replies, self.contacted),
            unsubscribe: rate(self.unsubscribes, self.delivered),
            complaint: rate(self.complaints, self.delivered),
        }
    }
}

/// `part / whole` to four decimal places; `None` (JSON `null`) when `whole` is zero: no
/// mail, no rate, never a division error.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

/// Rates as fractions (0.25 is 25 %), each over its documented denominator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    /// delivered / sent
    pub delivery: Option<f64>,
    /// bounces (emails that bounced) / sent
    pub bounce: Option<f64>,
    /// unique opens / delivered
    pub open: Option<f64>,
    /// unique clicks / delivered
    pub click: Option<f64>,
    /// unique replies / contacted
    pub reply: Option<f64>,
    /// unsubscribes / delivered
    pub unsubscribe: Option<f64>,
    /// complaints / delivered
    pub complaint: Option<f64>,
}

impl Rates {
    /// Their names as columns (the CSV export's), in `values` order.
    pub const COLUMNS: [&'static str; 7] = [
        "delivery_rate",
        "bounce_rate",
        "open_rate",
        "click_rate",
        "reply_rate",
        "unsubscribe_rate",
        "complaint_rate",
    ];

    pub fn values(&self) -> [Option<f64>; 7] {
        [
            self.delivery,
            self.bounce,
            self.open,
            self.click,
            self.reply,
            self.unsubscribe,
            self.complaint,
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Engagement {
    /// Every hit by a person (each email counts at most 100 of each).
    pub total: i64,
    /// Emails with at least one.
    pub unique: i64,
    /// Hits that looked automated (link scanners, privacy proxies): in neither figure above.
    pub automated: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Replies {
    pub total: i64,
    pub unique: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounces {
    /// Emails that bounced.
    pub total: i64,
    /// Emails with a permanent bounce.
    pub hard: i64,
    /// Emails with a temporary bounce (an email can have both kinds).
    pub soft: i64,
}

/// What a report shows for one slice of mail over one stretch of time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    pub sent: i64,
    pub contacted: i64,
    pub delivered: i64,
    pub failed: i64,
    pub opens: Engagement,
    pub clicks: Engagement,
    pub replies: Replies,
    pub bounces: Bounces,
    pub unsubscribes: i64,
    pub complaints: i64,
    pub rates: Rates,
}

impl From<Counts> for Figures {
    fn from(c: Counts) -> Self {
        Figures {
            sent: c.sent,
            contacted: c.contacted,
            delivered: c.delivered,
            failed: c.failed,
            opens: Engagement {
                total: c.opens,
                unique: c.unique_opens,
                automated: c.automated_opens,
            },
            clicks: Engagement {
                total: c.clicks,
                unique: c.unique_clicks,
                automated: c.automated_clicks,
            },
            replies: Replies {
                total: c.replies,
                unique: c.unique_replies,
            },
            bounces: Bounces {
                total: c.bounces,
                hard: c.hard_bounces,
                soft: c.soft_bounces,
            },
            unsubscribes: c.unsubscribes,
            complaints: c.complaints,
            rates: c.rates(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_over_nothing_is_null_not_a_division_error() {
        let rates = Counts::default().rates();
        assert_eq!(rates.delivery, None);
        assert_eq!(rates.open, None);
        assert_eq!(rates.reply, None);
    }

    #[test]
    fn rates_use_their_documented_denominators() {
        let c = Counts {
            sent: 8,
            contacted: 4,
            delivered: 6,
            unique_opens: 3,
            unique_clicks: 2,
            unique_replies: 1,
            bounces: 2,
            unsubscribes: 1,
            complaints: 1,
            ..Counts::default()
        };
        let r = c.rates();
        assert_eq!(r.delivery, Some(0.75));
        assert_eq!(r.bounce, Some(0.25));
        assert_eq!(r.open, Some(0.5));
        assert_eq!(r.click, Some(0.3333));
        assert_eq!(r.reply, Some(0.25));
        assert_eq!(r.unsubscribe, Some(0.1667));
        assert_eq!(r.complaint, Some(0.1667));
    }

    #[test]
    fn columns_follow_the_declaration() {
        assert_eq!(Counts::COLUMNS.len(), 17);
        assert_eq!(Counts::COLUMNS[0], "sent");
        assert_eq!(Counts::COLUMNS[16], "complaints");
    }
}
