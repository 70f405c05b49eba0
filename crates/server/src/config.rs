//! The server's configuration: one strict TOML file (every key documented
//! in `deploy/config.example.toml`; an unknown key is an error), then
//! environment overrides (`HEDUI_LISTEN`, `HEDUI_DATA`), then embedded
//! defaults. With no file at all the server listens on 127.0.0.1 only and
//! has one client, `admin`, whose token it writes into the data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Ingest department extracts.
    Ingest,
    /// Check households (per applicant and batches).
    Verify,
    /// Replay reports, read the audit log.
    Audit,
    /// Run and read dynamic monitoring.
    Monitor,
    /// Everything.
    Admin,
}

impl Role {
    /// The role's code.
    pub fn code(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Verify => "verify",
            Role::Audit => "audit",
            Role::Monitor => "monitor",
            Role::Admin => "admin",
        }
    }
}

/// One client: its name (in the audit log), the blake3 of its bearer
/// token (the token itself is never stored in the file), its roles and
/// the region-code prefixes it may query (`""` for every region).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Who, as the audit log names them.
    pub name: String,
    /// Hex blake3 of the token (`hedui token hash` prints it).
    pub token_blake3: String,
    /// What the token may do.
    pub roles: Vec<Role>,
    /// Region-code prefixes the token sees (a county: `"530302"`; a
    /// city: `"5303"`; everything: `""`).
    pub regions: Vec<String>,
}

impl Client {
    /// Whether the client has `role` (or `admin`).
    pub fn may(&self, role: Role) -> bool {
        self.roles.iter().any(|r| *r == role || *r == Role::Admin)
    }

    /// Whether `region_code` is inside the client's scope.
    pub fn sees(&self, region_code: &str) -> bool {
        self.regions
            .iter()
            .any(|p| region_code.starts_with(p.as_str()))
    }
}

/// Request size and concurrency limits.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request message, bytes.
    pub max_request_bytes: usize,
    /// Largest batch submission (`SubmitBatch`: the two tables), bytes.
    pub max_batch_bytes: usize,
    /// Households the batch runner gathers at once, in one set of queries
    /// (each set scans every source's view, so fewer, larger chunks are
    /// faster): memory grows with it. Outcomes are recorded a thousand at
    /// a time as they are built, so a killed server computes again only
    /// the groups it had not recorded.
    pub batch_chunk_households: usize,
    /// Concurrent requests per connection.
    pub concurrency_per_connection: usize,
    /// Per-applicant checks computed at once (a call waiting for its
    /// request snapshots and audit entry to be durable holds no slot). The
    /// default is twice the 2 cores of the reference machine: a check also
    /// waits on reads of the mapped point indexes.
    pub concurrent_checks: usize,
    /// After a shutdown signal, how long calls in flight may take to
    /// finish before the server stops anyway.
    pub shutdown_grace_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 4 << 20,
            max_batch_bytes: 512 << 20,
            batch_chunk_households: 100_000,
            concurrency_per_connection: 64,
            concurrent_checks: 4,
            shutdown_grace_seconds: 10,
        }
    }
}

/// The configuration file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<String>,
    /// The data directory.
    pub data: Option<PathBuf>,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// Clients and their tokens.
    #[serde(default)]
    pub clients: Vec<Client>,
    /// TLS; absent: plaintext (then listen on loopback only, or behind a
    /// terminating proxy).
    #[serde(default)]
    pub tls: Option<Tls>,
    /// A daily monitoring run; absent: none (runs come by RPC or cron).
    #[serde(default)]
    pub monitor: Option<MonitorSchedule>,
}

/// The server's daily monitoring run (动态监测): the roster in a folder,
/// run every day at a local time, its alerts kept (`ListAlerts`, Flight
/// `DoGet`) and optionally written as files.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSchedule {
    /// The local time of the daily run, `HH:MM`.
    pub daily_at: String,
    /// The local time zone as an offset from UTC, `+08:00` (China
    /// Standard Time) by default.
    #[serde(default = "default_offset")]
    pub utc_offset: String,
    /// The folder holding `roster_households.*` and `roster_members.*`,
    /// read afresh at every run.
    pub roster: PathBuf,
    /// Also write each run's alerts to `<out_dir>/<run_date>.jsonl`.
    #[serde(default)]
    pub out_dir: Option<PathBuf>,
    /// The purpose recorded in the audit log.
    #[serde(default = "default_purpose")]
    pub purpose: String,
}

fn default_offset() -> String {
    "+08:00".into()
}

fn default_purpose() -> String {
    "dynamic monitoring (动态监测), daily run".into()
}

impl MonitorSchedule {
    /// The time of day and the offset, checked.
    pub fn parsed(&self) -> Result<(chrono::NaiveTime, chrono::FixedOffset)> {
        let at = chrono::NaiveTime::parse_from_str(&self.daily_at, "%H:%M")
            .with_context(|| format!("monitor.daily_at `{}`: not HH:MM", self.daily_at))?;
        let offset: chrono::FixedOffset = self
            .utc_offset
            .parse()
            .ok()
            .with_context(|| format!("monitor.utc_offset `{}`: not ±HH:MM", self.utc_offset))?;
        Ok((at, offset))
    }
}

/// TLS (rustls) by configuration: the server's certificate and key, and
/// optionally the CA whose client certificates are required (mutual TLS).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// The server's certificate chain, PEM.
    pub cert: PathBuf,
    /// The server's private key, PEM.
    pub key: PathBuf,
    /// A CA certificate, PEM: when given, clients must present a
    /// certificate it signed (in addition to their bearer token).
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// With `client_ca`: accept clients without a certificate too (their
    /// token still decides what they may do).
    #[serde(default)]
    pub client_certificate_optional: bool,
}

impl Tls {
    /// The tonic server configuration, its files read.
    pub fn server_config(&self) -> Result<tonic::transport::ServerTlsConfig> {
        let read = |p: &Path, what: &str| {
            std::fs::read(p).with_context(|| format!("tls.{what}: reading {}", p.display()))
        };
        let identity = tonic::transport::Identity::from_pem(
            read(&self.cert, "cert")?,
            read(&self.key, "key")?,
        );
        let mut tls = tonic::transport::ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca {
            tls = tls
                .client_ca_root(tonic::transport::Certificate::from_pem(read(
                    ca,
                    "client_ca",
                )?))
                .client_auth_optional(self.client_certificate_optional);
        }
        Ok(tls)
    }
}

/// The configuration in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The data directory.
    pub data: PathBuf,
    /// Limits.
    pub limits: Limits,
    /// Clients.
    pub clients: Vec<Client>,
    /// TLS, when configured.
    pub tls: Option<Tls>,
    /// The daily monitoring run, when configured.
    pub monitor: Option<MonitorSchedule>,
}

/// The embedded default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Where the default admin token is written, inside the data directory.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

/// blake3 hex of a bearer token, as the configuration holds it.
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

impl Config {
    /// Reads `file` (if any), applies `HEDUI_LISTEN` / `HEDUI_DATA` and
    /// the command line (`listen`, `data`, which win), and checks it.
    pub fn load(
        file: Option<&Path>,
        listen: Option<&str>,
        data: Option<&Path>,
        default_data: &Path,
    ) -> Result<Config> {
        let parsed: FileConfig = match file {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("reading the configuration {}", f.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("the configuration {}", f.display()))?
            }
            None => FileConfig::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let listen_text = listen
            .map(str::to_owned)
            .or_else(|| env("HEDUI_LISTEN"))
            .or(parsed.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text
            .parse()
            .with_context(|| format!("listen address `{listen_text}` (HOST:PORT)"))?;
        let data = data
            .map(Path::to_owned)
            .or_else(|| env("HEDUI_DATA").map(PathBuf::from))
            .or(parsed.data)
            .unwrap_or_else(|| default_data.to_owned());
        for (i, c) in parsed.clients.iter().enumerate() {
            if c.name.trim().is_empty() {
                bail!("clients[{i}]: name is empty");
            }
            if c.token_blake3.len() != 64 || !c.token_blake3.bytes().all(|b| b.is_ascii_hexdigit())
            {
                bail!(
                    "clients[{i}] ({}): token_blake3 must be 64 hex digits (the blake3 of the token)",
                    c.name
                );
            }
            if c.roles.is_empty() {
                bail!("clients[{i}] ({}): no roles", c.name);
            }
            if c.regions.is_empty() {
                bail!(
                    "clients[{i}] ({}): no regions (use [\"\"] for every region)",
                    c.name
                );
            }
        }
        if let Some(m) = &parsed.monitor {
            m.parsed()?;
        }
        if file.is_some() && parsed.clients.is_empty() {
            bail!("the configuration names no clients: nobody could call the server");
        }
        Ok(Config {
            listen,
            data,
            limits: parsed.limits,
            clients: parsed.clients,
            tls: parsed.tls,
            monitor: parsed.monitor,
        })
    }

    /// With no clients configured: a fresh `admin` token (every role,
    /// every region), written to `<data>/admin.token` (mode 0600) and
    /// returned with where it is. An existing token file is reused.
    pub fn ensure_admin(&mut self) -> Result<Option<PathBuf>> {
        if !self.clients.is_empty() {
            return Ok(None);
        }
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("creating {}", self.data.display()))?;
        let path = self.data.join(ADMIN_TOKEN_FILE);
        let token = match std::fs::read_to_string(&path) {
            Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
            _ => {
                let mut bytes = [0u8; 32];
                use std::io::Read as _;
                std::fs::File::open("/dev/urandom")
                    .and_then(|mut f| f.read_exact(&mut bytes))
                    .context("reading /dev/urandom for the admin token")?;
                let token = blake3::hash(&bytes).to_hex().to_string();
                write_private(&path, token.as_bytes())?;
                token
            }
        };
        self.clients.push(Client {
            name: "admin".into(),
            token_blake3: token_hash(&token),
            roles: vec![Role::Admin],
            regions: vec![String::new()],
        });
        Ok(Some(path))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
