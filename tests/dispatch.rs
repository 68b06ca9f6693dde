//! Instruction-set reporting and forcing. Forcing is process-wide, so this binary keeps every
//! check that forces in one test, and checks `ETA_HAMMING_ISA` in child processes.

mod common;
use common::this_binary;
use eta_hamming::{Engine, Error, Isa, ISA_ENV_VAR};

#[test]
fn forcing_reporting_and_reset() {
    let best = Isa::detect();
    assert!(best.is_available());
    assert!(Isa::Scalar.is_available());
    #[cfg(target_arch = "x86_64")]
    assert!(!Isa::Neon.is_available());
    #[cfg(target_arch = "aarch64")]
    assert!(
        !Isa::Avx2.is_available() && !Isa::Avx512.is_available() && !Isa::Avx512Bw.is_available()
    );
    for isa in Isa::available() {
        isa.force().unwrap();
        assert_eq!(Isa::current(), isa);
        assert_eq!(Engine::current().isa(), isa);
    }
    let before = Isa::current();
    for isa in [
        Isa::Scalar,
        Isa::Avx2,
        Isa::Avx512Bw,
        Isa::Avx512,
        Isa::Neon,
    ] {
        if !isa.is_available() {
            assert_eq!(isa.force(), Err(Error::IsaUnavailable { isa: isa.name() }));
            assert_eq!(Isa::current(), before, "a failed force changed the choice");
            assert!(Engine::new(isa).is_err());
        }
    }
    // The AVX-512 tiers nest: a CPU with the native popcounts also runs the nibble-lookup table,
    // and detection prefers the faster one.
    if Isa::Avx512.is_available() {
        assert!(Isa::Avx512Bw.is_available() && Isa::Avx2.is_available());
        assert_eq!(best, Isa::Avx512);
    } else if Isa::Avx512Bw.is_available() {
        assert_eq!(best, Isa::Avx512Bw);
    }
    assert_eq!(Isa::available().last(), Some(&best));
    Isa::reset();
    if std::env::var_os(ISA_ENV_VAR).is_none() {
        assert_eq!(Isa::current(), best);
    }
}

#[test]
fn names_round_trip() {
    for isa in [
        Isa::Scalar,
        Isa::Avx2,
        Isa::Avx512Bw,
        Isa::Avx512,
        Isa::Neon,
    ] {
        assert_eq!(Isa::from_name(isa.name()), Ok(isa));
        assert_eq!(Isa::from_name(&isa.name().to_uppercase()), Ok(isa));
    }
    assert_eq!(Isa::from_name("sse2"), Err(Error::UnknownIsa));
    assert_eq!(Isa::from_name("avx512b"), Err(Error::UnknownIsa));
    assert_eq!(Isa::from_name(" AVX512BW "), Ok(Isa::Avx512Bw));
}

/// Run by the parent test in a child process: prints what the environment chose.
#[test]
fn child_reports_isa() {
    println!("ISA={} ENV={:?}", Isa::current(), Isa::env_override());
}

fn child(value: &str) -> String {
    let out = this_binary()
        .args([
            "--exact",
            "child_reports_isa",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ISA_ENV_VAR, value)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("ISA="))
        .unwrap_or_default();
    line[line.find("ISA=").unwrap_or(0)..].to_string()
}

#[test]
fn environment_variable_forces_at_first_use() {
    for isa in Isa::available() {
        let r = child(isa.name());
        assert!(r.starts_with(&format!("ISA={} ", isa.name())), "{isa}: {r}");
    }
    let best = Isa::detect();
    let unknown = child("sse9");
    assert!(
        unknown.starts_with(&format!("ISA={best} ")) && unknown.contains("UnknownIsa"),
        "{unknown}"
    );
    assert!(child("auto").contains("ENV=None"));
    for isa in [Isa::Avx2, Isa::Avx512Bw, Isa::Avx512, Isa::Neon] {
        if !isa.is_available() {
            let r = child(isa.name());
            assert!(
                r.starts_with(&format!("ISA={best} ")) && r.contains("IsaUnavailable"),
                "{r}"
            );
        }
    }
}
