//! Cast-vote records as JSON: one object with the candidates and the ballots.
//!
//! Ranked: `{"kind":"ranked","candidates":[...],"seats":N|null,"ballots":[{"count":n,
//! "ranking":[["A"],["B","C"]]}]}` (groups of tied candidates, by name).
//! Scored: `{"kind":"scored","candidates":[...],"max_score":5,"ballots":[{"count":n,
//! "scores":[5,0,3]}]}` (one score per candidate, in candidate order).

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::profile::RankedProfile;
use crate::scored::ScoredProfile;

/// Writes ranked ballots as JSON.
///
/// # Errors
/// [`Error::Write`] if serialisation fails (it cannot for a validated profile).
pub fn write_ranked(profile: &RankedProfile) -> Result<String> {
    let names: Vec<&str> = profile.candidates().iter().map(|c| c.name()).collect();
    let ballots: Vec<Value> = profile
        .ballots()
        .iter()
        .map(|b| {
            let ranking: Vec<Vec<&str>> = b
                .ranking()
                .iter()
                .map(|g| g.iter().map(|c| names[c.index()]).collect())
                .collect();
            json!({ "count": b.count(), "ranking": ranking })
        })
        .collect();
    to_string(&json!({
        "kind": "ranked",
        "candidates": names,
        "seats": profile.seats(),
        "ballots": ballots,
    }))
}

/// Writes score ballots as JSON.
///
/// # Errors
/// [`Error::Write`] if serialisation fails (it cannot for a validated profile).
pub fn write_scored(profile: &ScoredProfile) -> Result<String> {
    let names: Vec<&str> = profile.candidates().iter().map(|c| c.name()).collect();
    let ballots: Vec<Value> = profile
        .ballots()
        .iter()
        .map(|b| json!({ "count": b.count(), "scores": b.scores() }))
        .collect();
    to_string(&json!({
        "kind": "scored",
        "candidates": names,
        "max_score": profile.max_score(),
        "ballots": ballots,
    }))
}

fn to_string(value: &Value) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Write {
        format: "JSON",
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Candidate, CandidateId, RankedBallot};
    use crate::scored::ScoredBallot;

    #[test]
    fn writes_groups_by_name_and_scores() {
        let c = CandidateId::new;
        let p = RankedProfile::new(
            ["A", "B", "C"].map(Candidate::new).into(),
            Some(1),
            None,
            vec![RankedBallot::new(2, vec![vec![c(2)], vec![c(0), c(1)]])],
        )
        .unwrap();
        let v: Value = serde_json::from_str(&write_ranked(&p).unwrap()).unwrap();
        assert_eq!(v["ballots"][0]["ranking"], json!([["C"], ["A", "B"]]));
        assert_eq!(v["ballots"][0]["count"], 2);
        assert_eq!(v["seats"], 1);
        let s = ScoredProfile::new(
            ["A", "B"].map(Candidate::new).into(),
            5,
            None,
            vec![ScoredBallot::new(1, vec![4, 0])],
        )
        .unwrap();
        let v: Value = serde_json::from_str(&write_scored(&s).unwrap()).unwrap();
        assert_eq!(v["ballots"][0]["scores"], json!([4, 0]));
        assert_eq!(v["max_score"], 5);
    }
}
