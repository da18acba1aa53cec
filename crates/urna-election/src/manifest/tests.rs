use super::*;

const CLUB: &str = include_str!("../../../../examples/club-election.yaml");
const RANKED: &str = include_str!("../../../../examples/club-election-ranked.yaml");

const SMALL: &str = "\
id: e1
title: Small election
start: 2026-03-01T09:00:00Z
end: 2026-03-02T09:00:00Z
contests:
  - id: c1
    title: Chair
    method: plurality
    options:
      - id: a
        name: Ann
      - id: b
        name: Bob
";

fn error(yaml: &str) -> ManifestError {
    Manifest::from_yaml(yaml).expect_err("the manifest must be refused")
}

#[test]
fn the_examples_validate() {
    let club = Manifest::from_yaml(CLUB).unwrap();
    assert_eq!(club.id(), "club-agm-2026");
    assert_eq!(club.revoting(), Revoting::LastCounts);
    assert_eq!(club.start_rfc3339(), "2026-03-01T09:00:00Z");
    let methods: Vec<Method> = club.contests().iter().map(Contest::method).collect();
    assert_eq!(
        methods,
        [
            Method::Referendum,
            Method::Plurality,
            Method::Approval,
            Method::Score
        ]
    );
    assert!(
        club.contests()
            .iter()
            .all(|c| c.tally() == TallyKind::Homomorphic)
    );
    let boathouse = club.contest("boathouse").unwrap();
    assert_eq!(boathouse.options().len(), 3);
    assert_eq!(boathouse.referendum().quorum, Some(50));
    assert_eq!(boathouse.referendum().threshold, Fraction::new(2, 3));
    let committee = club.contest("committee").unwrap();
    assert_eq!(committee.seats(), 3);
    assert_eq!(committee.selections(), Limits { min: 0, max: 5 });
    assert_eq!(
        committee.tie_break(),
        &TieBreak::FixedOrder([4, 2, 0, 1, 3].map(CandidateId::new).into())
    );
    assert_eq!(club.ballot_style("juniors").unwrap().contests().len(), 3);
    assert_eq!(
        (club.trustees().count(), club.trustees().threshold()),
        (3, 2)
    );

    let ranked = Manifest::from_yaml(RANKED).unwrap();
    assert!(
        ranked
            .contests()
            .iter()
            .all(|c| c.tally() == TallyKind::Mixnet)
    );
    // The YAML alias gives `steering` the same options as `captain`.
    assert_eq!(ranked.contest("steering").unwrap().options().len(), 4);
    assert_eq!(
        ranked.contest("mascot").unwrap().scores(),
        Some(Limits { min: 0, max: 5 })
    );
    // No styles written: one default style with every contest.
    assert_eq!(ranked.ballot_styles().len(), 1);
    assert_eq!(ranked.ballot_styles()[0].contests().len(), 4);
    assert_ne!(club.fingerprint(), ranked.fingerprint());
}

use crate::profile::CandidateId;

#[test]
fn fingerprint_ignores_formatting_comments_key_order_and_defaults() {
    let base = Manifest::from_yaml(SMALL).unwrap().fingerprint();
    let rewritten = "\
# a comment
contests: [{method: plurality, title: Chair, id: c1, seats: 1,
            options: [{name: Ann, id: a}, {id: b, name: 'Bob'}],
            selections: {max: 1, min: 1}, tally: homomorphic,
            tie_break: {rule: previous-rounds}}]
end: \"2026-03-02T10:00:00+01:00\"
start: 2026-03-01T09:00:00Z
revoting: once
title: \"Small election\"
id: e1
ballot_styles: [{id: default, contests: [c1]}]
";
    assert_eq!(Manifest::from_yaml(rewritten).unwrap().fingerprint(), base);
}

#[test]
fn trustees_default_to_two_of_three_and_are_validated() {
    let implicit = Manifest::from_yaml(SMALL).unwrap();
    assert_eq!(implicit.trustees(), Trustees::default());
    assert_eq!(
        (implicit.trustees().count(), implicit.trustees().threshold()),
        (3, 2)
    );
    let explicit =
        Manifest::from_yaml(&format!("{SMALL}trustees: {{count: 3, threshold: 2}}\n")).unwrap();
    assert_eq!(explicit.fingerprint(), implicit.fingerprint());
    let five =
        Manifest::from_yaml(&format!("{SMALL}trustees:\n  count: 5\n  threshold: 5\n")).unwrap();
    assert_eq!(five.trustees(), Trustees::new(5, 5).unwrap());
    let one = Manifest::from_yaml(&format!("{SMALL}trustees: {{count: 1, threshold: 1}}\n"));
    assert_eq!(one.unwrap().trustees(), Trustees::new(1, 1).unwrap());
    // The encoding ends with u32(count) u32(threshold).
    let bytes = five.canonical_bytes();
    assert_eq!(bytes[bytes.len() - 8..], [0, 0, 0, 5, 0, 0, 0, 5]);

    let cases = [
        ("trustees:\n  count: 0\n", 15, "trustees.count", "1 to 100"),
        (
            "trustees:\n  count: 101\n",
            15,
            "trustees.count",
            "1 to 100",
        ),
        (
            "trustees:\n  threshold: 0\n",
            15,
            "trustees.threshold",
            "not 0",
        ),
        (
            "trustees:\n  count: 4\n  threshold: 5\n",
            16,
            "trustees.threshold",
            "trustee count (4), not 5",
        ),
        // The default threshold (2) exceeds a count of 1.
        ("trustees:\n  count: 1\n", 15, "trustees", "not 2"),
    ];
    for (extra, line, field, message) in cases {
        let e = error(&format!("{SMALL}{extra}"));
        assert_eq!((e.line(), e.field()), (line, field), "{extra}: {e}");
        assert!(e.message().contains(message), "{e}");
    }
    let unknown = error(&format!("{SMALL}trustees: {{count: 3, quorum: 2}}\n"));
    assert!(unknown.message().contains("quorum"), "{unknown}");
    assert_eq!(Trustees::new(3, 4), None);
    assert_eq!(Trustees::new(0, 0), None);
    assert_eq!(Trustees::new(101, 1), None);
}

#[test]
fn fingerprint_changes_with_every_semantic_change() {
    let base = Manifest::from_yaml(SMALL).unwrap();
    let variants = [
        SMALL.replace("Small election", "Small election!"),
        SMALL.replace("id: e1", "id: e2"),
        SMALL.replace("2026-03-02T09:00:00Z", "2026-03-02T09:00:01Z"),
        SMALL.replace("name: Bob", "name: Rob"),
        SMALL.replace("id: b\n", "id: bb\n"),
        SMALL.replace("method: plurality", "method: approval"),
        format!("{SMALL}revoting: last-counts\n"),
        SMALL.replace(
            "        name: Bob",
            "        name: Bob\n        party: Greens",
        ),
        SMALL.replace(
            "    method: plurality",
            "    method: plurality\n    tally: mixnet",
        ),
        SMALL.replace(
            "    method: plurality",
            "    method: plurality\n    selections: {min: 0}",
        ),
        SMALL.replace(
            "    method: plurality",
            "    method: plurality\n    tie_break: {rule: random, seed: x}",
        ),
        format!("{SMALL}trustees: {{count: 4}}\n"),
        format!("{SMALL}trustees: {{threshold: 3}}\n"),
        // Swapping the options changes the ballot.
        SMALL
            .replace("id: a\n        name: Ann", "id: TMP")
            .replace("id: b\n        name: Bob", "id: a\n        name: Ann")
            .replace("id: TMP", "id: b\n        name: Bob"),
    ];
    let mut seen = vec![base.fingerprint()];
    for (i, yaml) in variants.iter().enumerate() {
        let m = Manifest::from_yaml(yaml).unwrap_or_else(|e| panic!("variant {i}: {e}"));
        assert_ne!(m, base, "variant {i} must differ");
        let f = m.fingerprint();
        assert!(
            !seen.contains(&f),
            "variant {i} must change the fingerprint"
        );
        seen.push(f);
    }
}

#[test]
fn canonical_encoding_known_prefix_and_fingerprint_definition() {
    let m = Manifest::from_yaml(SMALL).unwrap();
    let bytes = m.canonical_bytes();
    // version 1, then lp("e1"), lp("Small election"), lp(""), start, end.
    let mut expected = vec![1u8, 0, 0, 0, 2, b'e', b'1', 0, 0, 0, 14];
    expected.extend_from_slice(b"Small election");
    expected.extend_from_slice(&[0, 0, 0, 0]);
    expected.extend_from_slice(&1_772_355_600u64.to_be_bytes());
    expected.extend_from_slice(&1_772_442_000u64.to_be_bytes());
    assert_eq!(&bytes[..expected.len()], expected.as_slice());
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update([0, 0, 0, 16]);
    h.update(b"urna/v1/manifest");
    h.update(&bytes);
    assert_eq!(m.fingerprint(), <[u8; 32]>::from(h.finalize()));
}

#[test]
fn errors_name_line_and_field() {
    let cases: [(String, u64, &str, &str); 12] = [
        (
            SMALL.replace("plurality", "plurallity"),
            8,
            "contests[0].method",
            "unknown method",
        ),
        (
            SMALL.replace(
                "    method: plurality",
                "    method: plurality\n    seats: 2",
            ),
            9,
            "contests[0].seats",
            "need more than 2 options",
        ),
        (
            SMALL.replace("id: b\n", "id: a\n"),
            12,
            "contests[0].options[1].id",
            "duplicate option",
        ),
        (
            SMALL.replace("2026-03-02T09:00:00Z", "2026-02-30T09:00:00Z"),
            4,
            "end",
            "calendar",
        ),
        (
            SMALL.replace("2026-03-02T09:00:00Z", "2026-03-01T08:00:00Z"),
            4,
            "end",
            "after it starts",
        ),
        (SMALL.replace("id: e1", "id: 'e 1'"), 1, "id", "identifier"),
        (
            format!("{SMALL}ballot_styles:\n  - id: s\n    contests: [c1, c2]\n"),
            16,
            "ballot_styles[0].contests[1]",
            "no contest has id",
        ),
        (
            SMALL.replace("method: plurality", "method: star\n    tally: homomorphic"),
            9,
            "contests[0].tally",
            "mixnet",
        ),
        (
            SMALL.replace(
                "method: plurality",
                "method: plurality\n    selections: {max: 2}",
            ),
            9,
            "contests[0].selections.max",
            "use approval",
        ),
        (
            SMALL.replace("method: plurality", "method: plurality\n    quorum: 5"),
            9,
            "contests[0].quorum",
            "only a referendum",
        ),
        (
            SMALL.replace(
                "method: plurality",
                "method: score\n    scores: {min: 3, max: 3}",
            ),
            9,
            "contests[0].scores.min",
            "empty",
        ),
        (
            SMALL.replace(
                "method: plurality",
                "method: plurality\n    tie_break: {rule: fixed-order, order: [a, z]}",
            ),
            9,
            "contests[0].tie_break.order[1]",
            "no option has id",
        ),
    ];
    for (yaml, line, field, message) in cases {
        let e = error(&yaml);
        assert_eq!((e.line(), e.field()), (line, field), "{e}");
        assert!(e.message().contains(message), "{e}");
        assert!(
            e.to_string().starts_with(&format!("line {line}, column ")),
            "{e}"
        );
    }
}

#[test]
fn yaml_and_schema_errors_carry_a_location() {
    let unknown = error(&SMALL.replace("    title: Chair", "    title: Chair\n    sets: 3"));
    assert_eq!(unknown.line(), 8);
    assert!(unknown.message().contains("sets"), "{unknown}");
    let missing = error(&SMALL.replace("title: Small election\n", ""));
    assert!(missing.message().contains("title"), "{missing}");
    let syntax = error("id: [unclosed\n");
    assert_eq!(syntax.line(), 1, "{syntax}");
    let duplicate = error(&format!("{SMALL}id: again\n"));
    assert!(duplicate.line() >= 1, "{duplicate}");
    let negative = error(&SMALL.replace(
        "    method: plurality",
        "    method: plurality\n    seats: -1",
    ));
    assert_eq!(negative.line(), 9, "{negative}");
}

#[test]
fn referendum_defaults_and_thresholds() {
    let yaml = "\
id: r
title: R
start: 2026-03-01T09:00:00Z
end: 2026-03-02T09:00:00Z
contests:
  - {id: q, title: Q, method: referendum, threshold: 60%}
";
    let m = Manifest::from_yaml(yaml).unwrap();
    let q = m.contest("q").unwrap();
    assert_eq!(
        q.options()
            .iter()
            .map(ContestOption::id)
            .collect::<Vec<_>>(),
        ["yes", "no", "abstain"]
    );
    assert_eq!(q.referendum().threshold, Fraction::new(3, 5));
    assert_eq!(q.selections(), Limits { min: 1, max: 1 });
    // 60% and 3/5 are the same rule, so the same fingerprint.
    let same = Manifest::from_yaml(&yaml.replace("60%", "6/10")).unwrap();
    assert_eq!(same.fingerprint(), m.fingerprint());
    for bad in ["0/3", "4/3", "1/0", "abc", "-1/2", "150%"] {
        let e = error(&yaml.replace("60%", &format!("'{bad}'")));
        assert_eq!(e.field(), "contests[0].threshold", "{bad}: {e}");
    }
    let wrong_options = error(&yaml.replace(
        "threshold: 60%",
        "options: [{id: no, name: No}, {id: yes, name: Yes}]",
    ));
    assert_eq!(wrong_options.field(), "contests[0].options");
}

#[test]
fn plain_scalars_that_look_like_other_types_are_text() {
    let yaml = SMALL
        .replace("id: e1", "id: 2026")
        .replace("name: Ann", "name: Yes")
        .replace("name: Bob", "name: null-island");
    let m = Manifest::from_yaml(&yaml).unwrap();
    assert_eq!(m.id(), "2026");
    assert_eq!(m.contests()[0].options()[0].name(), "Yes");
    let explicit = "\
id: r
title: R
start: 2026-03-01T09:00:00Z
end: 2026-03-02T09:00:00Z
contests:
  - {id: q, title: Q, method: referendum, options: [{id: yes, name: Yes}, {id: no, name: No}]}
";
    let q = Manifest::from_yaml(explicit).unwrap();
    assert_eq!(q.contests()[0].options().len(), 2);
}

#[test]
fn a_missing_field_is_reported_at_its_mapping() {
    let e = error(&SMALL.replace("    title: Chair\n", ""));
    assert!(e.message().contains("title"), "{e}");
    assert!(e.line() >= 6, "{e}");
}
