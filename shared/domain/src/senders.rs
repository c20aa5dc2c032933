//! Registered senders: the From addresses a tenant may use, each a whole address
//! (`pat@acme.io`) or a domain (`@acme.io`: any address there).

/// Whether `from` is one of `senders` (any case).
pub fn sender_allowed(senders: &[String], from: &str) -> bool {
    let from = from.to_lowercase();
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    senders.iter().any(|s| {
        let s = s.to_lowercase();
        match s.strip_prefix('@') {
            Some(d) => d == domain,
            None => s == from,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_are_addresses_or_whole_domains() {
        let senders = ["pat@acme.io".to_string(), "@news.acme.io".to_string()];
        assert!(sender_allowed(&senders, "Pat@Acme.io"));
        assert!(sender_allowed(&senders, "anyone@news.acme.io"));
        assert!(!sender_allowed(&senders, "sam@acme.io"));
        assert!(!sender_allowed(&senders, "x@evilnews.acme.io"));
        assert!(!sender_allowed(&[], "pat@acme.io"));
    }
}
