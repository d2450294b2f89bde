//! Where Moodshelf keeps things and how it is configured.
//!
//! Every path comes from here: the data dir (catalog, index, covers,
//! settings) and the models dir, each overridable by an option or an
//! environment variable so tests and evaluations never touch a person's
//! real library. Settings are read raw from `settings.toml` (every field
//! optional), then validated into [`Settings`], the type the code uses.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, Result};

pub const ENV_DATA_DIR: &str = "MOODSHELF_DATA_DIR";
pub const ENV_MODELS_DIR: &str = "MOODSHELF_MODELS_DIR";
pub const ENV_EMBED_MODEL: &str = "MOODSHELF_EMBED_MODEL";
pub const ENV_REASONING_MODEL: &str = "MOODSHELF_REASONING_MODEL";
pub const ENV_THREADS: &str = "MOODSHELF_THREADS";
pub const ENV_HEMISPHERE: &str = "MOODSHELF_HEMISPHERE";
pub const ENV_REASONING_ENDPOINT: &str = "MOODSHELF_REASONING_ENDPOINT";
pub const ENV_REASONING_API_KEY: &str = "MOODSHELF_REASONING_API_KEY";
/// "1" confirms a plain `http://` endpoint on another machine.
pub const ENV_REASONING_PLAIN_HTTP: &str = "MOODSHELF_REASONING_ENDPOINT_PLAIN_HTTP";

/// How long an endpoint may keep an answer waiting (to answer at all, and
/// between two pieces of a streamed reply) before the local model or the
/// fast path answers instead.
pub const DEFAULT_ENDPOINT_TIMEOUT_SECS: u64 = 20;

/// The file names of the default models, as the manifest names them.
pub const DEFAULT_EMBED_MODEL: &str = "all-MiniLM-L6-v2.F16.gguf";
pub const DEFAULT_REASONING_MODEL: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";

#[derive(Debug, Clone, PartialEq)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
}

impl Paths {
    /// Explicit values win, then `MOODSHELF_DATA_DIR` / `MOODSHELF_MODELS_DIR`,
    /// then the platform's data directory (`~/.local/share/moodshelf` on
    /// Linux). The models dir defaults to `<data dir>/models`.
    pub fn resolve(data_dir: Option<PathBuf>, models_dir: Option<PathBuf>) -> Result<Paths> {
        Paths::resolve_with(data_dir, models_dir, |k| std::env::var(k).ok())
    }

    /// [`Paths::resolve`] with the environment passed in (for tests).
    pub fn resolve_with(
        data_dir: Option<PathBuf>,
        models_dir: Option<PathBuf>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Paths> {
        let from_env = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let data_dir = data_dir
            .or_else(|| from_env(ENV_DATA_DIR))
            .or_else(|| dirs::data_dir().map(|d| d.join("moodshelf")))
            .ok_or_else(|| {
                Error::new(
                    Code::InvalidInput,
                    format!("no data directory: pass --data-dir or set {ENV_DATA_DIR}"),
                )
            })?;
        let models_dir = models_dir
            .or_else(|| from_env(ENV_MODELS_DIR))
            .unwrap_or_else(|| data_dir.join("models"));
        // Relative to where the command starts, once: LanceDB reads a
        // relative path as a URI ("cannot connect to LanceDb Cloud"), and a
        // host that changes directory must not move its library.
        let absolute = |p: PathBuf| {
            std::path::absolute(&p).map_err(|e| {
                Error::new(
                    Code::InvalidInput,
                    format!("cannot resolve {}: {e}", p.display()),
                )
            })
        };
        let (data_dir, models_dir) = (absolute(data_dir)?, absolute(models_dir)?);
        Ok(Paths {
            data_dir,
            models_dir,
        })
    }

    pub fn catalog(&self) -> PathBuf {
        self.data_dir.join("catalog.sqlite")
    }

    pub fn index(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    pub fn covers(&self) -> PathBuf {
        self.data_dir.join("covers")
    }

    pub fn settings(&self) -> PathBuf {
        self.data_dir.join("settings.toml")
    }

    /// Saved KV states of the reasoning model's fixed prompts (derived
    /// data: safe to delete).
    pub fn prompt_states(&self) -> PathBuf {
        self.data_dir.join("cache").join("prompts")
    }
}

/// `settings.toml` as written by a person: everything optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawSettings {
    pub models: RawModels,
    pub scan: RawScan,
    pub recommend: RawRecommend,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawRecommend {
    /// `north` (default) or `south`: which months are winter.
    pub hemisphere: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawModels {
    /// A file name in the models dir, or an absolute path to any GGUF.
    pub embedding: Option<String>,
    pub reasoning: Option<String>,
    /// CPU threads for llama.cpp; 0 or absent uses every core.
    pub threads: Option<usize>,
    /// Replies the local reasoning model writes at once as parallel
    /// sequences when explaining picks (absent: 4), and works it reads at
    /// once in the background (at least 16), or requests sent at once to
    /// a reasoning endpoint. More pays where a batch costs little more
    /// than one reply (a GPU, many cores).
    pub parallel: Option<u32>,
    /// An OpenAI-compatible server on another machine that reads requests
    /// and writes reasons instead of the local reasoning model
    /// (llama-server, Ollama, vLLM): `http://host:port`. Embeddings stay
    /// local.
    pub reasoning_endpoint: Option<String>,
    /// The model the endpoint should use (Ollama and vLLM need a name;
    /// absent takes the first one the server lists).
    pub reasoning_endpoint_model: Option<String>,
    /// Sent as a bearer token. `MOODSHELF_REASONING_API_KEY` keeps it out of
    /// this file.
    pub reasoning_api_key: Option<String>,
    /// Seconds an endpoint may keep an answer waiting (default 20).
    pub reasoning_timeout_secs: Option<u64>,
    /// Send requests to a plain `http://` endpoint on another machine:
    /// they (and the titles in them) cross the network unencrypted, so it
    /// takes this confirmation; `https://` and this machine need none.
    pub reasoning_endpoint_plain_http: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RawScan {
    /// Folder names skipped during scans, in addition to the built-in ones
    /// (`.git`, `@eaDir`, `$RECYCLE.BIN`, ...).
    pub ignore: Vec<String>,
}

/// Writes a file only its owner may read: settings may hold an
/// endpoint's API key.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

impl RawSettings {
    /// Reads `settings.toml` for changing it: a file that does not parse is
    /// copied aside (`settings.toml.broken`) and the change starts from the
    /// defaults, so saving from the window repairs the file and loses
    /// nothing the person wrote.
    pub fn read_for_update(paths: &Paths) -> Result<RawSettings> {
        match RawSettings::read(paths) {
            Ok(raw) => Ok(raw),
            Err(e) if e.code == Code::InvalidInput => {
                let file = paths.settings();
                std::fs::copy(&file, file.with_extension("toml.broken")).map_err(|io| {
                    Error::new(
                        Code::Internal,
                        format!("cannot keep a copy of {}: {io}", file.display()),
                    )
                })?;
                Ok(RawSettings::default())
            }
            Err(e) => Err(e),
        }
    }

    /// Reads `settings.toml`; absent means defaults.
    pub fn read(paths: &Paths) -> Result<RawSettings> {
        let file = paths.settings();
        match std::fs::read_to_string(&file) {
            Ok(text) => toml::from_str::<RawSettings>(&text).map_err(|e| {
                Error::new(
                    Code::InvalidInput,
                    format!("{}: {}", file.display(), e.message()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RawSettings::default()),
            Err(e) => Err(Error::new(
                Code::Internal,
                format!("cannot read {}: {e}", file.display()),
            )),
        }
    }

    /// Writes `settings.toml` whole, through a temporary file, so a crash
    /// leaves the old file or the new one. Validates first: a host cannot
    /// save settings the next start would refuse.
    pub fn write(&self, paths: &Paths) -> Result<()> {
        Settings::validate(self.clone(), paths, |_| None)?;
        let text = toml::to_string_pretty(self).map_err(Error::internal)?;
        let file = paths.settings();
        std::fs::create_dir_all(&paths.data_dir).map_err(Error::internal)?;
        let tmp = file.with_extension("toml.part");
        write_private(&tmp, &text)
            .and_then(|()| std::fs::rename(&tmp, &file))
            .map_err(|e| {
                Error::new(
                    Code::Internal,
                    format!("cannot write {}: {e}", file.display()),
                )
            })
    }
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub embedding_model: PathBuf,
    pub reasoning_model: PathBuf,
    pub threads: Option<usize>,
    pub parallel: Option<u32>,
    pub ignore_dirs: Vec<String>,
    pub hemisphere: crate::context::Hemisphere,
    /// The reasoning endpoint, when one is set (its `Debug` leaves the key
    /// out).
    pub endpoint: Option<moodshelf_llm::EndpointOptions>,
    /// Why `settings.toml` was not used, when it could not be: the app
    /// runs on defaults meanwhile and says so, and the file is left as it
    /// is for the person to fix (or for the next save, which keeps a copy).
    pub problem: Option<String>,
}

/// Folder names never worth scanning: version control, OS trash and
/// thumbnails, NAS metadata.
const BUILTIN_IGNORES: &[&str] = &[
    ".git",
    ".svn",
    ".hg",
    ".Trash",
    ".Trashes",
    ".Spotlight-V100",
    ".fseventsd",
    "@eaDir",
    "#recycle",
    "$RECYCLE.BIN",
    "System Volume Information",
    "lost+found",
    "node_modules",
];

impl Settings {
    /// Reads `settings.toml` (absent means defaults) and applies the
    /// environment overrides.
    ///
    /// A file with a typo, a key from a newer version or a value out of
    /// range must not stop the app: the defaults are used instead, with
    /// [`Settings::problem`] saying why.
    pub fn load(paths: &Paths) -> Result<Settings> {
        let env = |k: &str| std::env::var(k).ok();
        let problem = match RawSettings::read(paths) {
            Ok(raw) => match Settings::validate(raw, paths, env) {
                Ok(settings) => return Ok(settings),
                Err(e) => e.message,
            },
            Err(e) => e.message,
        };
        let mut settings = Settings::validate(RawSettings::default(), paths, env)?;
        settings.problem = Some(format!(
            "{problem}; using the default settings until the file is fixed"
        ));
        Ok(settings)
    }

    /// Turns raw settings into the type the code uses; `env` supplies the
    /// overrides (a function, so tests pass their own).
    pub fn validate(
        raw: RawSettings,
        paths: &Paths,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let model = |env_key: &str, configured: Option<String>, default: &str| {
            let name = env(env_key)
                .filter(|v| !v.is_empty())
                .or(configured)
                .unwrap_or_else(|| default.to_string());
            resolve_model(&paths.models_dir, &name)
        };
        let threads = threads_setting(raw.models.threads, &env)?;
        let mut ignore_dirs: Vec<String> = BUILTIN_IGNORES.iter().map(|s| s.to_string()).collect();
        ignore_dirs.extend(raw.scan.ignore.into_iter().filter(|s| !s.trim().is_empty()));
        let hemisphere = hemisphere_setting(raw.recommend.hemisphere, &env)?;
        let endpoint = endpoint_setting(&raw.models, &env)?;
        Ok(Settings {
            hemisphere,
            endpoint,
            embedding_model: model(ENV_EMBED_MODEL, raw.models.embedding, DEFAULT_EMBED_MODEL),
            reasoning_model: model(
                ENV_REASONING_MODEL,
                raw.models.reasoning,
                DEFAULT_REASONING_MODEL,
            ),
            threads,
            parallel: raw.models.parallel.filter(|p| (1..=64).contains(p)),
            ignore_dirs,
            problem: None,
        })
    }
}

/// The llama.cpp thread count: the environment's, else the file's; zero
/// means every core (`None`). A non-number in the environment is an error.
fn threads_setting(
    configured: Option<usize>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<usize>> {
    let threads = match env(ENV_THREADS).filter(|v| !v.is_empty()) {
        Some(v) => Some(v.parse::<usize>().map_err(|_| {
            Error::new(
                Code::InvalidInput,
                format!("{ENV_THREADS} must be a number, not {v:?}"),
            )
        })?),
        None => configured,
    }
    .filter(|t| *t > 0);
    Ok(threads)
}

/// The hemisphere: the environment's, else the file's, else north; a name
/// it does not know is an error.
fn hemisphere_setting(
    configured: Option<String>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<crate::context::Hemisphere> {
    Ok(
        match env(ENV_HEMISPHERE).filter(|v| !v.is_empty()).or(configured) {
            Some(h) => h
                .parse()
                .map_err(|e: String| Error::new(Code::InvalidInput, e))?,
            None => crate::context::Hemisphere::North,
        },
    )
}

/// The reasoning endpoint's options, `None` when no URL is set (in the
/// environment or the file). A URL the endpoint would refuse, or plain
/// http:// to another machine without the confirmation, is an error.
fn endpoint_setting(
    models: &RawModels,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<moodshelf_llm::EndpointOptions>> {
    let url = env(ENV_REASONING_ENDPOINT)
        .or(models.reasoning_endpoint.clone())
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let Some(url) = url else {
        return Ok(None);
    };
    // A URL the endpoint would refuse is refused here, where
    // the person can still fix it.
    if let Err(moodshelf_llm::Error::Endpoint { url, reason }) =
        moodshelf_llm::Endpoint::check_url(&url)
    {
        return Err(Error::new(
            Code::InvalidInput,
            format!("reasoning_endpoint {url:?}: {reason}"),
        ));
    }
    let confirmed = env(ENV_REASONING_PLAIN_HTTP).is_some_and(|v| v == "1")
        || models.reasoning_endpoint_plain_http == Some(true);
    if moodshelf_llm::remote::is_plain_remote(&url) && !confirmed {
        return Err(Error::new(
            Code::InvalidInput,
            format!(
                "reasoning_endpoint {:?}: plain http:// to another machine sends your requests and titles unencrypted; use https://, or confirm it with reasoning_endpoint_plain_http = true",
                moodshelf_llm::remote::shown_url(&url)
            ),
        ));
    }
    Ok(Some(moodshelf_llm::EndpointOptions {
        url,
        model: models
            .reasoning_endpoint_model
            .clone()
            .filter(|m| !m.trim().is_empty()),
        api_key: env(ENV_REASONING_API_KEY)
            .filter(|k| !k.is_empty())
            .or(models.reasoning_api_key.clone())
            .filter(|k| !k.trim().is_empty()),
        timeout: std::time::Duration::from_secs(
            models
                .reasoning_timeout_secs
                .unwrap_or(DEFAULT_ENDPOINT_TIMEOUT_SECS)
                .clamp(1, 600),
        ),
    }))
}

/// A bare file name lives in the models dir; anything with a directory
/// part is used as given.
fn resolve_model(models_dir: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() || p.components().count() > 1 {
        p.to_path_buf()
    } else {
        models_dir.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Paths {
        Paths::resolve_with(Some("/data".into()), None, |_| None).unwrap()
    }

    #[test]
    fn settings_round_trip_and_bad_values_are_not_saved() {
        let dir = tempfile::tempdir().unwrap();
        let p = Paths::resolve_with(Some(dir.path().into()), None, |_| None).unwrap();
        assert_eq!(RawSettings::read(&p).unwrap(), RawSettings::default());
        let mut raw = RawSettings::default();
        raw.recommend.hemisphere = Some("south".into());
        raw.write(&p).unwrap();
        assert_eq!(RawSettings::read(&p).unwrap(), raw);
        let s = Settings::validate(RawSettings::read(&p).unwrap(), &p, |_| None).unwrap();
        assert_eq!(s.hemisphere, crate::context::Hemisphere::South);

        raw.recommend.hemisphere = Some("east".into());
        let err = raw.write(&p).unwrap_err();
        assert_eq!(err.code, Code::InvalidInput);
        assert_eq!(
            RawSettings::read(&p)
                .unwrap()
                .recommend
                .hemisphere
                .as_deref(),
            Some("south"),
            "a refused write leaves the file as it was"
        );
    }

    #[test]
    fn a_reasoning_endpoint_is_checked_and_its_key_kept_out_of_logs() {
        let p = paths();
        let mut raw = RawSettings::default();
        raw.models.reasoning_endpoint = Some("http://10.0.0.5:11434/v1".into());
        raw.models.reasoning_endpoint_model = Some("qwen2.5:7b".into());
        raw.models.reasoning_api_key = Some("sk-file-key".into());
        // Plain http:// to another machine needs the person's word.
        let err = Settings::validate(raw.clone(), &p, |_| None).unwrap_err();
        assert_eq!(err.code, Code::InvalidInput);
        assert!(err.message.contains("unencrypted"), "{}", err.message);
        raw.models.reasoning_endpoint_plain_http = Some(true);
        let s = Settings::validate(raw.clone(), &p, |_| None).unwrap();
        let e = s.endpoint.as_ref().unwrap();
        assert_eq!(
            e.timeout,
            std::time::Duration::from_secs(DEFAULT_ENDPOINT_TIMEOUT_SECS)
        );
        assert_eq!(e.api_key.as_deref(), Some("sk-file-key"));
        assert!(!format!("{s:?}").contains("sk-file-key"));

        // The environment wins over the file, key included.
        let env = |k: &str| match k {
            ENV_REASONING_ENDPOINT => Some("https://gpu.example:8080".to_string()),
            ENV_REASONING_API_KEY => Some("sk-env-key".to_string()),
            _ => None,
        };
        let s = Settings::validate(raw.clone(), &p, env).unwrap();
        let e = s.endpoint.unwrap();
        assert_eq!(e.url, "https://gpu.example:8080");
        assert_eq!(e.api_key.as_deref(), Some("sk-env-key"));

        // A URL the client would refuse is refused here, where it can be
        // fixed; no endpoint is the default.
        raw.models.reasoning_endpoint = Some("192.168.1.20:8080".into());
        let err = Settings::validate(raw, &p, |_| None).unwrap_err();
        assert_eq!(err.code, Code::InvalidInput);
        assert!(err.message.contains("http://"), "{}", err.message);
        let s = Settings::validate(RawSettings::default(), &p, |_| None).unwrap();
        assert!(s.endpoint.is_none());
    }

    /// Issue 25 #6: a settings file with a key in it is its owner's alone.
    #[test]
    fn settings_are_written_for_their_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let p = paths();
        let mut raw = RawSettings::default();
        raw.models.reasoning_endpoint = Some("https://10.0.0.5:11434".into());
        raw.models.reasoning_api_key = Some("sk-file-key".into());
        raw.write(&p).unwrap();
        let mode = std::fs::metadata(p.settings())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn models_dir_defaults_under_data_dir() {
        let p = paths();
        assert_eq!(p.models_dir, PathBuf::from("/data/models"));
        assert_eq!(p.catalog(), PathBuf::from("/data/catalog.sqlite"));
        let p = Paths::resolve_with(None, None, |k| match k {
            ENV_DATA_DIR => Some("/env/data".into()),
            ENV_MODELS_DIR => Some("/env/models".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(p.data_dir, PathBuf::from("/env/data"));
        assert_eq!(p.models_dir, PathBuf::from("/env/models"));
        // A relative data dir is taken from where the command starts.
        let p = Paths::resolve_with(Some("dbg/data".into()), None, |_| None).unwrap();
        let here = std::env::current_dir().unwrap();
        assert_eq!(p.data_dir, here.join("dbg/data"));
        assert_eq!(p.models_dir, here.join("dbg/data/models"));
    }

    #[test]
    fn env_overrides_settings_and_defaults() {
        let raw: RawSettings = toml::from_str(
            "[models]\nembedding = \"custom.gguf\"\nthreads = 3\n[scan]\nignore = [\"Samples\"]\n",
        )
        .unwrap();
        let s = Settings::validate(raw.clone(), &paths(), |_| None).unwrap();
        assert_eq!(s.embedding_model, PathBuf::from("/data/models/custom.gguf"));
        assert_eq!(
            s.reasoning_model,
            PathBuf::from("/data/models").join(DEFAULT_REASONING_MODEL)
        );
        assert_eq!(s.threads, Some(3));
        assert!(s.ignore_dirs.iter().any(|d| d == "Samples"));
        let s = Settings::validate(raw, &paths(), |k| match k {
            ENV_EMBED_MODEL => Some("/opt/m/big.gguf".into()),
            ENV_THREADS => Some("8".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.embedding_model, PathBuf::from("/opt/m/big.gguf"));
        assert_eq!(s.threads, Some(8));
    }

    #[test]
    fn bad_settings_are_clear_errors() {
        assert!(toml::from_str::<RawSettings>("[models]\nembeding = \"x\"").is_err());
        let err = Settings::validate(RawSettings::default(), &paths(), |k| {
            (k == ENV_THREADS).then(|| "many".to_string())
        })
        .unwrap_err();
        assert_eq!(err.code, Code::InvalidInput);
    }

    #[test]
    fn a_broken_settings_file_falls_back_to_defaults_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            data_dir: dir.path().to_path_buf(),
            models_dir: dir.path().join("models"),
        };
        std::fs::write(paths.settings(), "[models]\nembeding = \"typo.gguf\"\n").unwrap();
        let s = Settings::load(&paths).expect("a typo does not stop the app");
        assert!(
            s.problem.as_deref().unwrap().contains("embeding"),
            "{:?}",
            s.problem
        );
        assert!(s.embedding_model.ends_with(DEFAULT_EMBED_MODEL));

        std::fs::write(paths.settings(), "[recommend]\nhemisphere = \"east\"\n").unwrap();
        assert!(
            Settings::load(&paths).unwrap().problem.is_some(),
            "a bad value too"
        );

        std::fs::write(paths.settings(), "[future]\nkey = 1\n").unwrap();
        let mut raw = RawSettings::read_for_update(&paths).unwrap();
        raw.recommend.hemisphere = Some("south".into());
        raw.write(&paths).unwrap();
        let kept = std::fs::read_to_string(paths.settings().with_extension("toml.broken")).unwrap();
        assert!(
            kept.contains("[future]"),
            "what the person wrote is kept aside"
        );
        let s = Settings::load(&paths).unwrap();
        assert_eq!(s.problem, None, "saving repaired the file");
        assert_eq!(s.hemisphere, crate::context::Hemisphere::South);
    }
}
