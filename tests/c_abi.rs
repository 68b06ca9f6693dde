//! The C ABI, proven from C and C++: `c_tests/test_c.c` (C11) and `c_tests/test_cpp.cpp` (C++17)
//! include `include/eta_hamming.h`, exercise every entry point against an independent C reference
//! (`c_tests/reference.h`) and every error path (`c_tests/suite.h`), under every instruction set
//! the CPU runs. Each test here compiles one variant with the C compiler the `cc` crate finds
//! (`CC`/`CXX` are honoured), with `-Wall -Wextra -Werror -pedantic`, links it and runs it:
//!
//! - C11 and C++17 against the staticlib;
//! - C11 against the cdylib (found through an rpath);
//! - C11 and C++17 with `-fsanitize=address,undefined`;
//! - the plain C11 binary under `valgrind --leak-check=full` (skipped, with a note, when valgrind
//!   is not installed).
//!
//! The libraries are built for this test run by a nested `cargo rustc --lib --crate-type
//! staticlib,cdylib` (see [`c_libraries`]): Cargo.toml lists only the `rlib` crate type, so that a
//! Rust dependent builds nothing else, and cargo-c builds the C libraries for installation. The
//! nested build uses this run's profile and target and its own target directory
//! (`<profile dir>/c_abi-cargo/`), so it never waits on the lock the outer `cargo test` holds. Build
//! products go to `<profile dir>/c_abi/<variant>/`, never into the source tree.

#![cfg(unix)]

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A run that takes longer than this is a hang: kill it and fail.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding this test executable: `<target>/<profile>/deps`.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the test executable has a directory");
    assert_eq!(
        deps.file_name(),
        Some(OsStr::new("deps")),
        "expected the test executable in a deps/ directory, found {}",
        exe.display()
    );
    deps.to_path_buf()
}

/// The profile directory (`target/debug`, `target/<triple>/release`, ...): the parent of `deps/`.
fn profile_dir() -> PathBuf {
    deps_dir()
        .parent()
        .expect("deps/ has a parent")
        .to_path_buf()
}

/// Cargo's profile name for the profile directory this test runs from (`debug` is `dev`).
fn profile_name() -> String {
    let dir = profile_dir();
    let name = dir
        .file_name()
        .expect("the profile directory has a name")
        .to_string_lossy()
        .into_owned();
    if name == "debug" {
        "dev".to_owned()
    } else {
        name
    }
}

/// The directory holding this package's static and shared C libraries (`libeta_hamming.a` and
/// `libeta_hamming.so` / `.dylib`), built once per test run.
///
/// A nested `cargo rustc --lib --crate-type staticlib,cdylib --offline`, with the profile of this
/// run, `--target` when this run was cross-compiled (the profile directory then sits in a
/// directory named after the target triple), and the target directory
/// `<profile dir>/c_abi-cargo`. The cargo is the one running the tests (`$CARGO`, else the one that built them). Its output is
/// kept on failure, in the panic message.
fn c_libraries() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let target_dir = profile_dir().join("c_abi-cargo");
        let triple = env!("ETA_HAMMING_TARGET");
        let cross = profile_dir()
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == OsStr::new(triple));
        let cargo = std::env::var_os("CARGO")
            .or_else(|| option_env!("CARGO").map(Into::into))
            .unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.arg("rustc")
            .arg("--manifest-path")
            .arg(manifest_dir().join("Cargo.toml"))
            .args(["--lib", "--crate-type", "staticlib,cdylib", "--offline"])
            .arg("--profile")
            .arg(profile_name())
            .arg("--target-dir")
            .arg(&target_dir);
        if cross {
            cmd.arg("--target").arg(triple);
        }
        let out = if cross {
            target_dir
                .join(triple)
                .join(profile_dir().file_name().unwrap())
        } else {
            target_dir.join(profile_dir().file_name().unwrap())
        };
        // A cold build on a loaded machine takes minutes (its compile, not a hang).
        let ran = run_for(&mut cmd, Duration::from_secs(1800));
        assert!(
            ran.ok,
            "`{}` failed ({}):\n{}\n{}",
            describe(&cmd),
            ran.status,
            ran.stdout,
            ran.stderr
        );
        out
    })
}

/// A library artifact of this package (`libeta_hamming.a`, `.so`, `.dylib`), from
/// [`c_libraries`].
fn artifact(file_name: &str) -> PathBuf {
    let path = c_libraries().join(file_name);
    assert!(
        path.is_file(),
        "the nested cargo build made no {}",
        path.display()
    );
    path
}

fn static_lib() -> PathBuf {
    artifact("libeta_hamming.a")
}

fn shared_lib_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "libeta_hamming.dylib"
    } else {
        "libeta_hamming.so"
    }
}

/// System libraries the Rust standard library in the staticlib needs
/// (`rustc --print native-static-libs`).
fn native_static_libs() -> &'static [&'static str] {
    if cfg!(target_os = "macos") {
        &["-lSystem", "-lc", "-lm"]
    } else if cfg!(target_os = "linux") {
        &[
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ]
    } else {
        &["-lpthread", "-lm"]
    }
}

/// A fresh, empty work directory for one variant under the profile directory.
fn work_dir(variant: &str) -> PathBuf {
    let dir = profile_dir().join("c_abi").join(variant);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove the previous work directory");
    }
    std::fs::create_dir_all(&dir).expect("create the work directory");
    dir
}

/// The C or C++ compiler for this target, as a build script would find it.
fn compiler(cpp: bool) -> cc::Tool {
    cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .opt_level(0)
        .debug(true)
        .target(env!("ETA_HAMMING_TARGET"))
        .host(env!("ETA_HAMMING_HOST"))
        .cpp(cpp)
        .try_get_compiler()
        .unwrap_or_else(|e| panic!("no C{} compiler found: {e}", if cpp { "++" } else { "" }))
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Output of a finished command: status, stdout, stderr.
struct Ran {
    ok: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to completion (killing it after [`RUN_TIMEOUT`]), capturing its output.
fn run(cmd: &mut Command) -> Ran {
    run_for(cmd, RUN_TIMEOUT)
}

/// Runs `cmd` to completion (killing it after `timeout`), capturing its output.
fn run_for(cmd: &mut Command, timeout: Duration) -> Ran {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{}`: {e}", describe(cmd)));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    match status {
        Some(s) => Ran {
            ok: s.success(),
            status: s.to_string(),
            stdout,
            stderr,
        },
        None => Ran {
            ok: false,
            status: format!("killed after {timeout:?} (hang?)"),
            stdout,
            stderr,
        },
    }
}

/// Runs `cmd` and fails the test, with everything it printed, unless it succeeds.
fn run_ok(what: &str, cmd: &mut Command) -> Ran {
    let line = describe(cmd);
    let started = Instant::now();
    let r = run(cmd);
    assert!(
        r.ok,
        "{what} failed ({})\ncommand: {line}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        r.status, r.stdout, r.stderr
    );
    eprintln!("c_abi: {what}: ok in {:.2?}", started.elapsed());
    r
}

#[derive(Clone, Copy, PartialEq)]
enum Lang {
    C11,
    Cpp17,
}

#[derive(Clone, Copy, PartialEq)]
enum Link {
    Static,
    Shared,
}

/// Compiles and links one test program; returns the executable.
fn build(variant: &str, lang: Lang, link: Link, sanitize: bool) -> PathBuf {
    let dir = work_dir(variant);
    let exe = dir.join(if lang == Lang::C11 {
        "test_c"
    } else {
        "test_cpp"
    });
    let src = manifest_dir().join("c_tests").join(if lang == Lang::C11 {
        "test_c.c"
    } else {
        "test_cpp.cpp"
    });
    let mut cmd = compiler(lang == Lang::Cpp17).to_command();
    cmd.current_dir(&dir)
        .arg(if lang == Lang::C11 {
            "-std=c11"
        } else {
            "-std=c++17"
        })
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-I")
        .arg(manifest_dir().join("include"))
        .arg("-I")
        .arg(manifest_dir().join("c_tests"))
        .arg(format!(
            "-DETA_EXPECTED_VERSION=\"{}\"",
            env!("CARGO_PKG_VERSION")
        ));
    if sanitize {
        cmd.args([
            "-fsanitize=address,undefined",
            "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all",
        ]);
    }
    cmd.arg(&src).arg("-o").arg(&exe);
    match link {
        Link::Static => {
            cmd.arg(static_lib());
            cmd.args(native_static_libs());
        }
        Link::Shared => {
            let lib = artifact(shared_lib_name());
            let libdir = lib.parent().expect("library directory");
            if lib.file_name() == Some(OsStr::new(shared_lib_name())) {
                // `-l` prefers the shared library to the static one beside it.
                cmd.arg("-L").arg(libdir).arg("-leta_hamming");
            } else {
                cmd.arg(&lib);
            }
            cmd.arg(format!("-Wl,-rpath,{}", libdir.display()));
            cmd.args(["-lpthread", "-lm"]);
        }
    }
    if lang == Lang::Cpp17 {
        cmd.arg("-pthread");
    }
    run_ok(&format!("compile {variant}"), &mut cmd);
    assert!(exe.is_file(), "the compiler made no {}", exe.display());
    exe
}

/// Cargo's target runner (`CARGO_TARGET_<TRIPLE>_RUNNER`), set when the tests run under an
/// emulator: test programs must run through it too.
fn target_runner() -> Option<Vec<String>> {
    std::env::vars()
        .find(|(k, v)| {
            k.starts_with("CARGO_TARGET_") && k.ends_with("_RUNNER") && !v.trim().is_empty()
        })
        .map(|(_, v)| v.split_whitespace().map(str::to_owned).collect())
}

/// Sanitizer runtimes and valgrind are host tools: under an emulator those variants are skipped
/// (they run on the native target).
fn native_only(what: &str) -> bool {
    if target_runner().is_some() {
        eprintln!("c_abi: NOTE: {what} skipped under a cross-target runner (it runs natively)");
        return false;
    }
    true
}

/// Runs a test program with `ETA_HAMMING_ISA` set to `isa` (or removed), and checks it
/// reported success.
fn run_program(what: &str, exe: &Path, isa: Option<&str>, wrapper: &[&str]) {
    let mut cmd = match wrapper.split_first() {
        Some((tool, args)) => {
            let mut c = Command::new(tool);
            c.args(args).arg(exe);
            c
        }
        None => match target_runner() {
            // Cross-testing (e.g. aarch64 under qemu-user): the program runs through the runner.
            Some(runner) => {
                let mut c = Command::new(&runner[0]);
                c.args(&runner[1..]).arg(exe);
                c
            }
            None => Command::new(exe),
        },
    };
    // Cargo's LD_LIBRARY_PATH may name a profile directory holding a stale copy of the shared
    // library; the programs carry their own rpath to the fresh one.
    cmd.env_remove("LD_LIBRARY_PATH")
        .env_remove("ETA_HAMMING_ISA")
        .env("RUST_BACKTRACE", "1")
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=1:allocator_may_return_null=1",
        )
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    if let Some(isa) = isa {
        cmd.env("ETA_HAMMING_ISA", isa);
    }
    let r = run_ok(what, &mut cmd);
    assert!(
        r.stdout.contains("checks passed under ISAs: scalar"),
        "{what}: the program did not report its checks\n--- stdout ---\n{}\n--- stderr ---\n{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn c11_against_the_staticlib() {
    let exe = build("c11_static", Lang::C11, Link::Static, false);
    run_program("test_c (static)", &exe, None, &[]);
    // ETA_HAMMING_ISA read at first use: obeyed, or ignored and reported when unusable.
    run_program("test_c (ETA_HAMMING_ISA=scalar)", &exe, Some("scalar"), &[]);
    run_program("test_c (ETA_HAMMING_ISA=bogus)", &exe, Some("bogus"), &[]);
}

#[test]
fn cpp17_against_the_staticlib() {
    let exe = build("cpp17_static", Lang::Cpp17, Link::Static, false);
    run_program("test_cpp (static)", &exe, None, &[]);
}

#[test]
fn c11_against_the_cdylib() {
    let exe = build("c11_shared", Lang::C11, Link::Shared, false);
    if cfg!(target_os = "linux") && target_runner().is_none() {
        // The program must load the shared library, not carry a static copy.
        if let Ok(out) = Command::new("ldd").arg(&exe).output() {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(shared_lib_name()),
                "test_c (shared) does not load {}:\n{text}",
                shared_lib_name()
            );
        }
    }
    run_program("test_c (shared)", &exe, None, &[]);
}

#[test]
fn c11_with_address_and_undefined_sanitizers() {
    if !native_only("the sanitizer build") {
        return;
    }
    let exe = build("c11_asan_ubsan", Lang::C11, Link::Static, true);
    run_program("test_c (asan+ubsan)", &exe, None, &[]);
}

#[test]
fn cpp17_with_address_and_undefined_sanitizers() {
    if !native_only("the sanitizer build") {
        return;
    }
    let exe = build("cpp17_asan_ubsan", Lang::Cpp17, Link::Static, true);
    run_program("test_cpp (asan+ubsan)", &exe, None, &[]);
}

#[test]
fn c11_under_valgrind() {
    if !native_only("the valgrind run") {
        return;
    }
    if Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("c_abi: NOTE: valgrind is not installed; skipping the valgrind run (CI runs it)");
        return;
    }
    let exe = build("c11_valgrind", Lang::C11, Link::Static, false);
    // One narrow suppression: the standard library's main-thread handle (see the file).
    let supp = format!(
        "--suppressions={}",
        manifest_dir().join("c_tests/valgrind.supp").display()
    );
    run_program(
        "test_c (valgrind)",
        &exe,
        None,
        &["valgrind", "--error-exitcode=1", "--leak-check=full", &supp],
    );
}

/// Compiles `c_tests/{file}` to an object file (no link), as `std` (C or C++), with `-Werror`.
fn compile_only(std: &str, file: &str) -> Ran {
    let cpp = std.starts_with("c++");
    let mut cmd = compiler(cpp).to_command();
    if cpp {
        cmd.args(["-x", "c++"]);
    }
    // `-c`, not `-fsyntax-only`: GCC's C front end diagnoses an unused result only when it
    // generates code.
    let dir = work_dir(&format!("compile_{}_{std}", file.replace('.', "_")));
    cmd.current_dir(&dir)
        .arg(format!("-std={std}"))
        .args(["-Wall", "-Wextra", "-Wpedantic", "-Werror", "-c", "-o"])
        .arg(dir.join("out.o"))
        .arg("-I")
        .arg(manifest_dir().join("include"))
        .arg(manifest_dir().join("c_tests").join(file));
    run(&mut cmd)
}

/// The header compiles cleanly under C99, C11, C++17 and C++20 with `-Werror`: statuses and
/// ISAs 32 bits wide, unsigned constants printed with `%u`, the version macros (issue 11 item 3).
#[test]
fn the_header_compiles_with_werror_in_c99_c11_cpp17_cpp20() {
    for std in ["c99", "c11", "c++17", "c++20"] {
        let r = compile_only(std, "header_only.c");
        assert!(
            r.ok,
            "header_only.c as {std} ({})\n{}{}",
            r.status, r.stdout, r.stderr
        );
    }
}

/// Ignoring a status is diagnosed (`warn_unused_result` in C, `[[nodiscard]]` in C++17 and
/// later): the same file fails to compile with `-Werror`, for that reason.
#[test]
fn ignoring_a_status_is_diagnosed() {
    for std in ["c99", "c11", "c++17", "c++20"] {
        let r = compile_only(std, "ignored_status.c");
        assert!(
            !r.ok,
            "ignored_status.c compiled as {std}: ETA_MUST_USE has no effect"
        );
        let text = format!("{}{}", r.stdout, r.stderr);
        assert!(
            text.contains("unused-result")
                || text.contains("warn_unused_result")
                || text.contains("nodiscard"),
            "ignored_status.c as {std} failed for another reason:\n{text}"
        );
    }
}

/// `include/eta_hamming.hpp`, the header-only C++ layer: `c_tests/test_hpp.cpp` built as C++17
/// and C++20 with `-Wall -Wextra -Wpedantic -Werror` against the staticlib (the second also
/// with ASan/UBSan where they run), and run (issue 11 item 5).
#[test]
fn the_cpp_wrapper_in_cpp17_and_cpp20() {
    for (std, sanitize) in [("c++17", false), ("c++20", false), ("c++20", true)] {
        if sanitize && !native_only("the C++ wrapper's sanitizer build") {
            continue;
        }
        let variant = format!("hpp_{}{}", &std[3..], if sanitize { "_asan" } else { "" });
        let dir = work_dir(&variant);
        let exe = dir.join("test_hpp");
        let mut cmd = compiler(true).to_command();
        cmd.current_dir(&dir)
            .arg(format!("-std={std}"))
            .args(["-Wall", "-Wextra", "-Wpedantic", "-Werror"])
            .arg("-I")
            .arg(manifest_dir().join("include"));
        if sanitize {
            cmd.args([
                "-fsanitize=address,undefined",
                "-fno-omit-frame-pointer",
                "-fno-sanitize-recover=all",
            ]);
        }
        cmd.arg(manifest_dir().join("c_tests/test_hpp.cpp"))
            .arg("-o")
            .arg(&exe)
            .arg(static_lib())
            .args(native_static_libs())
            .arg("-pthread");
        run_ok(&format!("compile {variant}"), &mut cmd);
        let mut run_cmd = match target_runner() {
            Some(runner) => {
                let mut c = Command::new(&runner[0]);
                c.args(&runner[1..]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        run_cmd
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("ETA_HAMMING_ISA")
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
        let r = run_ok(&format!("test_hpp ({variant})"), &mut run_cmd);
        assert!(
            r.stdout.contains("checks passed"),
            "test_hpp ({variant}) did not report its checks:\n{}{}",
            r.stdout,
            r.stderr
        );
    }
}

/// Every function the header declares is called by the C tests, so a new entry point cannot
/// go untested from C unnoticed.
#[test]
fn every_header_function_is_exercised_by_the_c_tests() {
    let header = std::fs::read_to_string(manifest_dir().join("include/eta_hamming.h"))
        .expect("read include/eta_hamming.h");
    let mut tests = String::new();
    for f in ["suite.h", "test_c.c", "test_cpp.cpp"] {
        tests += &std::fs::read_to_string(manifest_dir().join("c_tests").join(f))
            .unwrap_or_else(|e| panic!("read c_tests/{f}: {e}"));
    }
    let mut declared = Vec::new();
    for line in header.lines().filter(|l| !l.trim_start().starts_with('*')) {
        // Declarations: `type eta_name(args...` (cbindgen puts the name and `(` on one line).
        let Some(open) = line.find('(') else {
            continue;
        };
        let name = line[..open].rsplit([' ', '*']).next().unwrap_or("");
        if name.starts_with("eta_") && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            declared.push(name.to_owned());
        }
    }
    assert!(
        declared.len() >= 26,
        "found only {declared:?} in the header"
    );
    let missing: Vec<_> = declared
        .iter()
        .filter(|name| !tests.contains(&format!("{name}(")))
        .collect();
    assert!(missing.is_empty(), "not called by c_tests/: {missing:?}");
}
