//! Who a payout batch pays, and why the others are held back: pure rules over a member's ledger
//! balance and what is known of its holder. The use case (`service::payouts`) gathers the
//! facts, stores the decisions and writes the ledger.
use sha2::{Digest, Sha256};

use super::sepa::in_eea;
use crate::models::enums::{HolderStatus, PayoutItemStatus};

/// What the rules need to know of a point's holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolderFacts {
    pub id: i32,
    pub status: HolderStatus,
    /// "First Last" or the organisation's name; `None` while unknown.
    pub name: Option<String>,
    pub iban: Option<String>,
}

/// A member with something in the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub member_id: i32,
    pub pod: String,
    pub holder: Option<HolderFacts>,
    /// Credits through the batch's month minus every payment made so far, in cents.
    pub balance_cents: i64,
}

/// What a batch does with one member's balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub member_id: i32,
    pub pod: String,
    pub holder_id: Option<i32>,
    pub balance_cents: i64,
    /// The transfer: the whole balance when included, 0 otherwise.
    pub amount_cents: i64,
    pub status: PayoutItemStatus,
    pub reason: Option<String>,
    pub creditor_name: Option<String>,
    pub iban: Option<String>,
}

/// `€ 1.234,56`-free plain form for messages: `12.34 €`.
fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02} €", cents.abs() / 100, cents.abs() % 100)
}

/// The rules, in the order a referent would check them. A zero balance is not listed at all.
/// A negative balance (the member owes the community) is held back; so is a point whose
/// holder cannot be paid yet (none, erased, not active, no IBAN or name). A balance below
/// `minimum_cents` carries over: it stays in the ledger and counts in the next batch.
pub fn decide(candidate: &Candidate, minimum_cents: i64) -> Option<Decision> {
    if candidate.balance_cents == 0 {
        return None;
    }
    let holder = candidate.holder.as_ref();
    let held = |reason: String| (PayoutItemStatus::Held, Some(reason));
    let (status, reason) = match holder {
        _ if candidate.balance_cents < 0 => held(format!(
            "the balance is negative ({}): the member owes the community, nothing to pay",
            euros(candidate.balance_cents)
        )),
        None => held("no holder is registered for the point".into()),
        Some(h) if h.status == HolderStatus::Erased => {
            held("the holder's personal data were erased: no account to pay".into())
        }
        Some(h) if h.status != HolderStatus::Active => held(format!(
            "holder {} is not active yet (data or consents missing): activate it to pay it",
            h.id
        )),
        Some(h) if h.iban.is_none() => held(format!("holder {} has no IBAN on record", h.id)),
        Some(h) if h.name.is_none() => held(format!("holder {} has no name on record", h.id)),
        Some(h)
            if h.iban
                .as_deref()
                .is_some_and(|iban| !in_eea(iban.get(..2).unwrap_or(""))) =>
        {
            held(format!(
                "holder {}'s IBAN is held outside the EEA ({}): a SEPA file without postal addresses cannot pay it — pay it another way and record the payment",
                h.id,
                h.iban.as_deref().and_then(|i| i.get(..2)).unwrap_or("?")
            ))
        }
        Some(_) if candidate.balance_cents < minimum_cents => (
            PayoutItemStatus::CarriedOver,
            Some(format!(
                "below the minimum of {}: carried over to the next batch",
                euros(minimum_cents)
            )),
        ),
        Some(_) => (PayoutItemStatus::Included, None),
    };
    Some(Decision {
        member_id: candidate.member_id,
        pod: candidate.pod.clone(),
        holder_id: holder.map(|h| h.id),
        balance_cents: candidate.balance_cents,
        amount_cents: if status == PayoutItemStatus::Included {
            candidate.balance_cents
        } else {
            0
        },
        status,
        reason,
        creditor_name: holder.and_then(|h| h.name.clone()),
        iban: holder.and_then(|h| h.iban.clone()),
    })
}

/// A digest of the decisions (members, balances, names, IBANs, statuses), in member order:
/// approval recomputes it and refuses a batch whose figures or accounts moved since the preview.
pub fn fingerprint(decisions: &[Decision]) -> String {
    let mut sorted: Vec<&Decision> = decisions.iter().collect();
    sorted.sort_by_key(|d| d.member_id);
    let mut hash = Sha256::new();
    for d in sorted {
        hash.update(
            format!(
                "{}|{}|{}|{}|{}|{}\n",
                d.member_id,
                d.balance_cents,
                d.amount_cents,
                d.status.as_str(),
                d.creditor_name.as_deref().unwrap_or(""),
                d.iban.as_deref().unwrap_or("")
            )
            .as_bytes(),
        );
    }
    format!("{:x}", hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(status: HolderStatus, iban: Option<&str>) -> HolderFacts {
        HolderFacts {
            id: 7,
            status,
            name: Some("Maria Rossi".into()),
            iban: iban.map(str::to_string),
        }
    }

    fn candidate(balance_cents: i64, holder: Option<HolderFacts>) -> Candidate {
        Candidate {
            member_id: 1,
            pod: "IT001E00000001".into(),
            holder,
            balance_cents,
        }
    }

    const IBAN: &str = "IT60X0542811101000000123456";

    #[test]
    fn an_active_holder_with_an_iban_is_paid_its_whole_balance() {
        let d = decide(
            &candidate(1234, Some(holder(HolderStatus::Active, Some(IBAN)))),
            1000,
        )
        .unwrap();
        assert_eq!(d.status, PayoutItemStatus::Included);
        assert_eq!(d.amount_cents, 1234);
        assert_eq!(d.reason, None);
        assert_eq!(d.iban.as_deref(), Some(IBAN));
    }

    #[test]
    fn each_reason_to_hold_back_is_named() {
        let cases = [
            (candidate(500, None), "no holder"),
            (
                candidate(500, Some(holder(HolderStatus::Draft, Some(IBAN)))),
                "not active",
            ),
            (
                candidate(500, Some(holder(HolderStatus::Erased, None))),
                "erased",
            ),
            (
                candidate(500, Some(holder(HolderStatus::Active, None))),
                "no IBAN",
            ),
            (
                candidate(-250, Some(holder(HolderStatus::Active, Some(IBAN)))),
                "negative (-2.50 €)",
            ),
            (
                candidate(
                    500,
                    Some(holder(HolderStatus::Active, Some("CH9300762011623852957"))),
                ),
                "outside the EEA (CH)",
            ),
        ];
        for (c, expected) in cases {
            let d = decide(&c, 0).unwrap();
            assert_eq!(d.status, PayoutItemStatus::Held, "{expected}");
            assert_eq!(d.amount_cents, 0);
            assert!(d.reason.as_deref().unwrap().contains(expected), "{d:?}");
        }
    }

    #[test]
    fn below_the_minimum_carries_over_and_zero_is_not_listed() {
        let active = || Some(holder(HolderStatus::Active, Some(IBAN)));
        let d = decide(&candidate(999, active()), 1000).unwrap();
        assert_eq!(d.status, PayoutItemStatus::CarriedOver);
        assert!(d.reason.unwrap().contains("10.00 €"));
        assert_eq!(
            decide(&candidate(1000, active()), 1000).unwrap().status,
            PayoutItemStatus::Included
        );
        assert_eq!(decide(&candidate(0, active()), 0), None);
    }

    #[test]
    fn the_fingerprint_moves_with_a_balance_or_an_iban_not_with_the_order() {
        let a = decide(
            &candidate(1000, Some(holder(HolderStatus::Active, Some(IBAN)))),
            0,
        )
        .unwrap();
        let mut b = a.clone();
        b.member_id = 2;
        let base = fingerprint(&[a.clone(), b.clone()]);
        assert_eq!(base, fingerprint(&[b.clone(), a.clone()]));
        let mut richer = a.clone();
        richer.balance_cents += 1;
        assert_ne!(base, fingerprint(&[richer, b.clone()]));
        let mut moved = a;
        moved.iban = Some("DE89370400440532013000".into());
        assert_ne!(base, fingerprint(&[moved, b]));
    }
}
