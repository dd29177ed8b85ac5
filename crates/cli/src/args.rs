//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use jiff::civil::Date;

/// 诚信分平台 — Shaoxing personal integrity score platform.
#[derive(Debug, Parser)]
#[command(name = "chengxin", version, about)]
pub struct Cli {
    /// Database URL: sqlite://PATH (default) or postgres://USER:PASS@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "CHENGXIN_DATABASE_URL",
        default_value = "sqlite://chengxin.db"
    )]
    pub db: String,

    /// Who runs the command, as the audit log names them (`operator:NAME`);
    /// default: the OS user ($USER, else `id -un`).
    #[arg(long, global = true, env = "CHENGXIN_ACTOR")]
    pub actor: Option<String>,

    /// The audit checkpoint signing key file (Ed25519 seed, mode 0600): kept
    /// apart from the database and its data key; created on first use only
    /// for a database that has no audit key yet.
    #[arg(long, global = true, env = "CHENGXIN_AUDIT_KEY_FILE")]
    pub audit_key: Option<PathBuf>,

    #[command(flatten)]
    pub certs: CertArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// This city's score certificates: who signs them and with which keys.
#[derive(Debug, Clone, clap::Args)]
pub struct CertArgs {
    /// The directory of certificate signing key files (`KID.key`, Ed25519
    /// seed, mode 0600; the directory 0700): kept apart from the database,
    /// which holds only the public keys. `keys rotate` creates it.
    #[arg(
        long = "cert-keys",
        global = true,
        env = "CHENGXIN_CERT_KEYS_DIR",
        value_name = "DIR"
    )]
    pub cert_keys: Option<PathBuf>,
    /// This city's URL: the `iss` of its certificates.
    #[arg(
        long,
        global = true,
        env = "CHENGXIN_CITY_URL",
        default_value = chengxin_jobs::certificates::DEFAULT_CITY_URL
    )]
    pub city_url: String,
    /// This city's code, as `city` in verification answers.
    #[arg(
        long,
        global = true,
        env = "CHENGXIN_CITY_CODE",
        default_value = chengxin_jobs::certificates::DEFAULT_CITY_CODE
    )]
    pub city_code: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a synthetic city, import it, score everyone and show the grades.
    Demo(DemoArgs),
    /// Write a deterministic synthetic population in the import format (JSON Lines).
    Generate(GenerateArgs),
    /// Import records from a JSONL or CSV file, then rescore the people affected.
    Import(ImportArgs),
    /// Rescore everyone (or only people whose records changed).
    Recompute(RecomputeArgs),
    /// Rescore exactly the people whose records entered or left a counting
    /// window since the last run, and run the other date-driven steps.
    Daily(DailyArgs),
    /// Explain one person's score.
    Score(ScoreArgs),
    /// Validate, simulate, publish or list score models.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Validate, publish or list versions of the information catalogue (第十一条).
    #[command(subcommand)]
    Catalogue(DataCommand),
    /// Validate, publish or list versions of the commitment templates.
    #[command(subcommand)]
    Templates(DataCommand),
    /// Run the HTTP service.
    Serve(ServeArgs),
    /// Manage cooperating units and their API keys.
    #[command(subcommand)]
    Unit(UnitCommand),
    /// Manage authorised parties (banks, merchants, transport, government) and their API keys.
    #[command(subcommand)]
    Party(PartyCommand),
    /// Manage agency staff accounts (admin, reviewer, auditor).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Manage 信易+ incentive scenarios (benefits only, 第十八条).
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Verify the audit log or sign a checkpoint of it.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The working-day calendar: count working days, show or load a year.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Rotate the data key and the blind index (README, "Key rotation").
    #[command(subcommand, name = "data-key")]
    DataKey(DataKeyCommand),
    /// Score certificate signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Verify score certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Partner cities whose certificates we verify (第二十三条).
    #[command(subcommand)]
    Partner(PartnerCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new certificate signing key current; older keys stay in the
    /// key set until every certificate they signed has expired (30 days).
    Rotate {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Verify a score certificate (a compact JWS) offline and print its
    /// claims; exit 1 when it is invalid or expired, with the reason.
    Verify {
        /// The certificate file (`-` for standard input).
        file: PathBuf,
        /// Verify against this key set (JWKS) instead of the local
        /// database's (ours and registered partners').
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// Print the answer as JSON (the same fields as the HTTP verifier).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Register a partner city (or replace its registration): its key set
    /// and its grade map (README, "Partner cities").
    Add {
        /// The city's code, e.g. `ningbo` (a–z, 0–9, -).
        city: String,
        #[arg(long)]
        name: String,
        /// Its key set: a JWKS file of Ed25519 keys (its /.well-known/jwks.json).
        #[arg(long)]
        jwks: PathBuf,
        /// Its grade map: `issuer` and `[grades]` their grade = our grade (TOML or JSON).
        #[arg(long)]
        grade_map: PathBuf,
    },
    /// List partner cities.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Print the date N working days after DATE (the count starts on the
    /// next day; weekends and public holidays are skipped, make-up working
    /// days count).
    AddWorkingDays {
        date: Date,
        /// At least 1.
        #[arg(allow_negative_numbers = true)]
        n: i64,
        /// Print {"date","provisional"}.
        #[arg(long)]
        json: bool,
    },
    /// Show a year's public holidays and make-up working days.
    Show {
        year: i16,
        #[arg(long)]
        json: bool,
    },
    /// Load a year's arrangement (TOML or JSON, validated), replacing the
    /// shipped or earlier loaded one.
    Load { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum DataKeyCommand {
    /// Re-encrypt every person under a new key and switch the database to
    /// it; resumable (run it again after an interruption).
    Rotate {
        /// The new key's file (created, mode 0600, if missing; an existing
        /// file is used as it is, never overwritten).
        #[arg(long)]
        new_key_file: PathBuf,
        /// People (and records) per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// Stop after this many batches, before switching over (a later run resumes).
        #[arg(long)]
        max_batches: Option<usize>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub oidc: OidcArgs,
    /// Also serve the built-in demo identity provider under /demo-idp and
    /// trust it: anyone can sign in as any resident. Demo data only.
    #[arg(long)]
    pub demo: bool,
}

/// Residents' sign-in: the identity provider whose ID tokens are trusted.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OidcArgs {
    /// The identity provider's issuer (`iss` of its ID tokens).
    #[arg(long, env = "CHENGXIN_OIDC_ISSUER", requires_all = ["oidc_audience", "oidc_jwks"])]
    pub oidc_issuer: Option<String>,
    /// Our client id: the `aud` its tokens must carry.
    #[arg(long, env = "CHENGXIN_OIDC_AUDIENCE", requires = "oidc_issuer")]
    pub oidc_audience: Option<String>,
    /// Its key set: a JWKS file, or an http(s) URL (fetched again on an unknown `kid`, at most every 30 s).
    #[arg(
        long,
        env = "CHENGXIN_OIDC_JWKS",
        value_name = "FILE_OR_URL",
        requires = "oidc_issuer"
    )]
    pub oidc_jwks: Option<String>,
    /// The claim holding the 18-character ID number.
    #[arg(long, env = "CHENGXIN_OIDC_ID_CLAIM", default_value = "id_number")]
    pub oidc_id_claim: String,
}

#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// Create a unit and print its API key (shown only once).
    Add {
        /// Unit code, e.g. SX-TAX.
        code: String,
        #[arg(long)]
        name: String,
        /// Catalogue items it is responsible for, e.g. P01,S01.
        #[arg(long, value_delimiter = ',', required = true)]
        items: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List units.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Give a unit a new key; the old one stops working at once.
    RotateKey {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Disable a unit: its key stops working.
    Disable { code: String },
}

#[derive(Debug, Subcommand)]
pub enum PartyCommand {
    /// Register a party and print its API key (shown only once).
    Add {
        /// Party code, e.g. SX-BANK.
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["bank", "merchant", "transport", "government"])]
        kind: String,
        /// Purposes it declares, e.g. loan_discount,deposit_waiver (a
        /// government party: incentive purposes only, 第十九条).
        #[arg(long, value_delimiter = ',', required = true)]
        purposes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List parties.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Give a party a new key; the old one stops working at once.
    RotateKey {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Disable a party: its key stops working.
    Disable { code: String },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account; the password is read from standard input.
    Add {
        /// Account name: 1–32 of a–z, 0–9, `.`, `-`, `_`, starting with a letter.
        name: String,
        #[arg(long, value_parser = ["admin", "reviewer", "auditor"])]
        role: String,
        /// Read the password (at least 12 characters) from the first line of
        /// standard input. Required: a password is never taken as an argument.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List staff accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable a staff account: its sessions end at once and it cannot sign in.
    Disable { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Register a scenario from a JSON file (the body of
    /// `POST /api/v1/staff/scenarios`); every problem is printed with its path.
    Add { file: PathBuf },
    /// List scenarios, retired ones too.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Retire a scenario: no longer offered or checkable.
    Retire { code: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and name the first broken entry.
    Verify {
        /// Also prove that the log still extends this signed checkpoint.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Write a signed checkpoint (size and head hash) into the log and print it as JSON.
    Checkpoint,
    /// As a witness (partner city, auditor): co-sign a checkpoint another
    /// deployment published, printing the co-signed checkpoint. Needs no database.
    Witness {
        /// The checkpoint (JSON, from `audit checkpoint` or GET /api/v1/audit/checkpoint).
        #[arg(long)]
        checkpoint: PathBuf,
        /// The witness's own Ed25519 key file (created, mode 0600, if missing).
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many synthetic residents.
    #[arg(long, default_value_t = 20_000)]
    pub residents: u64,
    /// The demo database file (recreated on every run, but only if an
    /// earlier demo made it: the demo never deletes a file it did not create).
    #[arg(long, default_value = "chengxin-demo.db")]
    pub file: PathBuf,
    /// Address the demo server listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Stop after scoring, without creating units or starting the server.
    #[arg(long)]
    pub no_serve: bool,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[arg(long)]
    pub residents: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file (`-` for standard output).
    #[arg(long)]
    pub out: PathBuf,
    /// The date the population is generated as of (default: today).
    #[arg(long)]
    pub as_of: Option<Date>,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to import (`-` for standard input).
    pub file: PathBuf,
    /// jsonl or csv (default: from the file's extension).
    #[arg(long)]
    pub format: Option<String>,
    /// Write rejected rows here as JSON Lines.
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// Rescore affected people as of this date (default: today).
    #[arg(long)]
    pub as_of: Option<Date>,
    /// Lines per transaction.
    #[arg(long, default_value_t = 20_000)]
    pub chunk: usize,
}

#[derive(Debug, clap::Args)]
pub struct RecomputeArgs {
    /// Score as of this date (default: today).
    #[arg(long)]
    pub as_of: Option<Date>,
    /// Only people whose records changed since they were last scored.
    #[arg(long)]
    pub changed_only: bool,
}

#[derive(Debug, clap::Args)]
pub struct DailyArgs {
    /// Run as of this date (default: today in Asia/Shanghai); never before the last run.
    #[arg(long)]
    pub as_of: Option<Date>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// The resident ID number (18 characters).
    pub id_number: String,
    /// Compute as of this date from the stored records (default: today).
    #[arg(long)]
    pub as_of: Option<Date>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Check a file against the data in force (and, for a catalogue, every
    /// stored record) and report every error with its path.
    Validate { file: PathBuf },
    /// Check a file and make it the version in force.
    Publish {
        file: PathBuf,
        /// The date the version takes effect.
        #[arg(long)]
        effective: Date,
    },
    /// List the published versions, the one in force last.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Check a model file and report every error with its path.
    Validate { file: PathBuf },
    /// Run a candidate model over all current data, beside the model in force, without publishing.
    Simulate {
        file: PathBuf,
        #[arg(long)]
        as_of: Option<Date>,
        /// How many of the largest movers to list.
        #[arg(long, default_value_t = 10)]
        movers: usize,
        #[arg(long)]
        json: bool,
    },
    /// Make a model the one in force and rescore everyone under it.
    Publish {
        file: PathBuf,
        /// The date the model takes effect.
        #[arg(long)]
        effective: Date,
        #[arg(long)]
        as_of: Option<Date>,
    },
    /// List stored models.
    List,
}
