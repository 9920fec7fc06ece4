use super::*;

#[test]
fn passwords_hash_as_argon2id_with_the_owasp_parameters_and_verify() {
    let hash = hash_password("kata-sandi-rahasia").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("kata-sandi-rahasia"));
    assert!(verify_password(&hash, "kata-sandi-rahasia"));
    assert!(!verify_password(&hash, "kata-sandi-rahasiA"));
    assert!(!verify_password("not a phc string", "kata-sandi-rahasia"));
    // Two hashes of one password differ (random salt).
    assert_ne!(hash, hash_password("kata-sandi-rahasia").unwrap());
}

#[test]
fn short_and_overlong_passwords_are_refused() {
    assert!(check_password_strength("pendek").is_err());
    assert!(check_password_strength(&"x".repeat(257)).is_err());
    assert!(check_password_strength("cukup-panjang").is_ok());
}

#[test]
fn session_tokens_are_prefixed_random_and_stored_as_sha256() {
    let a = new_session_token();
    let b = new_session_token();
    assert!(a.starts_with("fs_") && a.len() == 3 + 43, "{a}");
    assert_ne!(a, b);
    let h = sha256_hex(a.as_bytes());
    assert_eq!(h.len(), 64);
    assert!(!h.contains(&a[3..]));
    // The known SHA-256 of "abc".
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

const SECRET: &str = "a-test-secret-of-at-least-32-characters";

#[test]
fn a_signed_link_verifies_until_it_expires() {
    let claims = LinkClaims {
        stop_id: 42,
        team_id: 3,
        expires: 1_000,
    };
    let token = sign_link(SECRET, &claims);
    assert_eq!(verify_link(SECRET, &token, 999), Ok(claims));
    assert_eq!(verify_link(SECRET, &token, 1_000), Ok(claims));
    assert_eq!(
        verify_link(SECRET, &token, 1_001),
        Err(LinkError::Expired(claims))
    );
}

#[test]
fn a_tampered_or_foreign_link_is_invalid() {
    let token = sign_link(
        SECRET,
        &LinkClaims {
            stop_id: 42,
            team_id: 3,
            expires: 1_000,
        },
    );
    // Another visit, another team, a later expiry: each breaks the signature.
    for forged in [
        token.replacen("42.", "43.", 1),
        token.replacen(".3.", ".4.", 1),
        token.replacen(".1000.", ".9999.", 1),
    ] {
        assert_eq!(
            verify_link(SECRET, &forged, 0),
            Err(LinkError::Invalid),
            "{forged}"
        );
    }
    assert_eq!(
        verify_link("another-secret-of-at-least-32-chars!!", &token, 0),
        Err(LinkError::Invalid)
    );
    for junk in ["", ".", "a.b.c.d", "1.2.3", "1.2.3.!!!"] {
        assert_eq!(verify_link(SECRET, junk, 0), Err(LinkError::Invalid));
    }
}

#[test]
fn scopes_nest_by_region_code() {
    assert!(region_within("35.09", "35.09"));
    assert!(region_within("35.09.01", "35.09"));
    assert!(region_within("35.09", "35"));
    assert!(!region_within("35.1", "35.09"));
    assert!(!region_within("35.10", "35.1"));
    assert!(!region_within("64.72", "35"));
    let coordinator = Principal {
        user_id: 1,
        username: "k".into(),
        role: Role::Coordinator,
        region: Some("35.09".into()),
        team_id: None,
    };
    assert!(coordinator.covers_region("35.09"));
    assert!(!coordinator.covers_region("35.10"));
    let field = Principal {
        role: Role::Field,
        team_id: Some(7),
        ..coordinator.clone()
    };
    assert!(field.covers_team(7, "35.09"));
    assert!(!field.covers_team(8, "35.09"));
}

#[test]
fn csrf_token_binds_to_its_session_and_secret() {
    let secret = "s".repeat(32);
    let t = csrf_token(&secret, "fs_session-a");
    assert!(csrf_matches(&secret, "fs_session-a", &t));
    assert!(!csrf_matches(&secret, "fs_session-b", &t));
    assert!(!csrf_matches(&"x".repeat(32), "fs_session-a", &t));
    assert!(!csrf_matches(&secret, "fs_session-a", ""));
    assert!(!csrf_matches(&secret, "fs_session-a", "not base64 !"));
}

#[test]
fn a_notice_link_answers_for_its_site_until_it_expires_and_never_opens_a_visit_form() {
    let claims = NoticeClaims {
        plan_id: 7,
        site_id: 42,
        expires: 1_000,
    };
    let token = sign_notice(SECRET, &claims);
    assert_eq!(verify_notice(SECRET, &token, 1_000), Ok(claims));
    assert_eq!(verify_notice(SECRET, &token, 1_001), Err(Some(claims)));
    assert_eq!(
        verify_notice(SECRET, &token.replacen(".42.", ".43.", 1), 0),
        Err(None)
    );
    assert_eq!(
        verify_notice("another-secret-of-32-characters-xx", &token, 0),
        Err(None)
    );
    // The same numbers signed as a visit link are not a notice link, and the other way round.
    let visit = sign_link(
        SECRET,
        &LinkClaims {
            stop_id: 7,
            team_id: 42,
            expires: 1_000,
        },
    );
    assert_eq!(verify_notice(SECRET, &visit, 0), Err(None));
    assert_eq!(verify_link(SECRET, &token, 0), Err(LinkError::Invalid));
}
