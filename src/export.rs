//! Writing a research export: the study's keyed pseudonyms (HMAC-SHA256 under the study secret,
//! which is read from a file or the environment and never written anywhere), the tables as CSV or
//! Parquet, the codebook (CSV and Markdown), and the manifest with each file's SHA-256. The files
//! are made in memory, checked, written into a new directory beside the target and renamed into
//! place, so a failed export leaves nothing behind. Nothing in them depends on the time of the run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use lifecourse_events::*;
use lifecourse_projections::research::{
    codebook, codebook_markdown, Kind, Pseudonyms, ResearchExport, Table, Value,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::{AppError, InvalidInput, ResearchHistories};

/// The environment variable that may hold the study secret itself.
pub const SECRET_ENV: &str = "LIFECOURSE_STUDY_SECRET";
/// The shortest study secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;
/// What the manifest says the files are.
pub const EXPORT_FORMAT: &str = "lifecourse research export 1";

/// The study's secret key. Its `Debug` prints nothing.
pub struct StudySecret(Vec<u8>);

impl std::fmt::Debug for StudySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StudySecret(..)")
    }
}

impl StudySecret {
    /// The secret from `file` (its bytes, without a final line break), or else from
    /// `LIFECOURSE_STUDY_SECRET`. Errors never repeat it.
    pub fn read(file: Option<&Path>) -> Result<Self, InvalidInput> {
        let bytes = match file {
            Some(path) => std::fs::read(path).map_err(|_| {
                InvalidInput::StudySecret("file cannot be read: check --secret-file")
            })?,
            None => std::env::var_os(SECRET_ENV)
                .map(|v| v.into_encoded_bytes())
                .ok_or(InvalidInput::StudySecret(
                    "is missing: give --secret-file FILE, or set LIFECOURSE_STUDY_SECRET",
                ))?,
        };
        let mut bytes = bytes;
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(InvalidInput::StudySecret(
                "is too short: use at least 16 bytes, e.g. `head -c 32 /dev/urandom | base64 > study.secret`",
            ));
        }
        Ok(Self(bytes))
    }
}

/// A study name: what pseudonyms are keyed by besides the secret, and the manifest's title.
pub fn check_study(name: &str) -> Result<(), InvalidInput> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(InvalidInput::StudyName(name.to_string()))
    }
}

/// The study's pseudonyms: `kind-` and 16 hexadecimal digits of HMAC-SHA256(secret, study, kind,
/// id). The same secret and study always give the same pseudonym; another study (or secret)
/// gives unrelated ones.
pub struct StudyPseudonyms {
    secret: StudySecret,
    study: String,
    /// Shift dates by up to this many days either way.
    shift_max: Option<u32>,
}

impl StudyPseudonyms {
    pub fn new(secret: StudySecret, study: &str, shift_max: Option<u32>) -> Self {
        Self {
            secret,
            study: study.to_string(),
            shift_max,
        }
    }

    fn mac(&self, kind: &str, id: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret.0).expect("HMAC takes any key");
        for part in ["lifecourse research pseudonym v1", &self.study, kind, id] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    fn pseudonym(&self, prefix: &str, kind: &str, id: &str) -> String {
        format!("{prefix}-{}", hex::encode(&self.mac(kind, id)[..8]))
    }
}

impl Pseudonyms for StudyPseudonyms {
    fn child(&self, child: ChildId) -> String {
        self.pseudonym("c", "child", &child.to_string())
    }
    fn person(&self, person: &PersonId) -> String {
        self.pseudonym("s", "staff", person.as_str())
    }
    fn centre(&self, centre: &CentreId) -> String {
        self.pseudonym("k", "centre", centre.as_str())
    }
    fn organisation(&self, name: &str) -> String {
        self.pseudonym("o", "organisation", name)
    }
    fn shift_days(&self, child: ChildId) -> i64 {
        let Some(max) = self.shift_max else {
            return 0;
        };
        let mac = self.mac("shift", &child.to_string());
        let n = u64::from_be_bytes(mac[..8].try_into().expect("8 bytes"));
        let span = 2 * u64::from(max) + 1;
        (n % span) as i64 - i64::from(max)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Parquet,
}

/// Refuses an output directory that exists and is not empty (an export is never mixed into
/// other files), before anything is read or written.
pub fn check_out_dir(dir: &Path) -> Result<(), InvalidInput> {
    let shown = dir.display().to_string();
    let why = |why: &str| InvalidInput::ExportDirectory {
        dir: shown.clone(),
        why: why.to_string(),
    };
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(why("exists and is not empty: give a new directory"));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return Err(why("cannot be read")),
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(why("its parent directory does not exist"));
    }
    Ok(())
}

/// What the manifest records about one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    pub name: String,
    /// Data rows (header excluded); none for the Markdown codebook.
    pub rows: Option<usize>,
    pub bytes: usize,
    pub sha256: String,
}

/// The manifest: everything needed to say what an export is and to make it again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub study: String,
    pub as_of: ClinicalDate,
    pub known_at: String,
    pub known_at_rule: &'static str,
    /// The highest store position among the events recorded at or before `known_at`.
    pub position_cut: i64,
    pub events_read: u64,
    pub catalogue: Vec<CatalogueEntry>,
    pub thresholds_fingerprint: String,
    pub program_version: &'static str,
    pub file_format: FileFormat,
    pub min_centre_size: usize,
    pub shift_dates_max_days: Option<u32>,
    pub children_considered: usize,
    pub children_exported: usize,
    pub files: Vec<FileEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CatalogueEntry {
    pub event_type: &'static str,
    pub schema_version: &'static str,
}

/// How the export was asked for, as the manifest records it.
pub struct ExportSettings {
    pub study: String,
    pub format: FileFormat,
    pub min_centre_size: usize,
    pub shift_dates_max_days: Option<u32>,
    pub thresholds_fingerprint: String,
}

fn output_error(format: &'static str) -> impl Fn(String) -> AppError {
    move |message| AppError::Output { format, message }
}

/// A table as CSV: a header, then one line per row; missing values are empty cells.
pub fn csv_bytes(table: &Table) -> Result<Vec<u8>, AppError> {
    let err = output_error("CSV");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(table.columns.iter().map(|c| c.name.as_str()))
        .map_err(|e| err(e.to_string()))?;
    for row in &table.rows {
        writer
            .write_record(row.iter().map(Value::to_cell))
            .map_err(|e| err(e.to_string()))?;
    }
    writer.into_inner().map_err(|e| err(e.to_string()))
}

/// A table as Parquet: one row group, every column optional (null for a missing value), text as
/// UTF-8 strings, integers as INT64, reals as DOUBLE; uncompressed, no time stamps.
pub fn parquet_bytes(table: &Table) -> Result<Vec<u8>, AppError> {
    use parquet::basic::{LogicalType, Repetition, Type as Physical};
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;

    let err = output_error("Parquet");
    let perr = |e: parquet::errors::ParquetError| err(e.to_string());
    let fields = table
        .columns
        .iter()
        .map(|c| {
            let (physical, logical) = match c.kind {
                Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                Kind::Integer => (Physical::INT64, None),
                Kind::Real => (Physical::DOUBLE, None),
            };
            Type::primitive_type_builder(&c.name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(perr)?;
    let schema = Type::group_type_builder("schema")
        .with_fields(fields)
        .build()
        .map_err(perr)?;
    let props = WriterProperties::builder()
        .set_created_by(format!("lifecourse {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut out = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut out, Arc::new(schema), Arc::new(props)).map_err(perr)?;
    if !table.rows.is_empty() {
        let mut group = writer.next_row_group().map_err(perr)?;
        let mut index = 0;
        while let Some(mut column) = group.next_column().map_err(perr)? {
            let kind = table.columns[index].kind;
            let cells = table.rows.iter().map(|r| &r[index]);
            let defs: Vec<i16> = cells
                .clone()
                .map(|v| i16::from(*v != Value::Null))
                .collect();
            let mismatch = || {
                err(format!(
                    "column {} holds a value of another type",
                    table.columns[index].name
                ))
            };
            match kind {
                Kind::Text => {
                    let mut values = Vec::new();
                    for v in cells {
                        match v {
                            Value::Text(s) => values.push(ByteArray::from(s.as_str())),
                            Value::Null => {}
                            _ => return Err(mismatch()),
                        }
                    }
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&values, Some(&defs), None)
                        .map_err(perr)?;
                }
                Kind::Integer => {
                    let mut values = Vec::new();
                    for v in cells {
                        match v {
                            Value::Integer(i) => values.push(*i),
                            Value::Null => {}
                            _ => return Err(mismatch()),
                        }
                    }
                    column
                        .typed::<Int64Type>()
                        .write_batch(&values, Some(&defs), None)
                        .map_err(perr)?;
                }
                Kind::Real => {
                    let mut values = Vec::new();
                    for v in cells {
                        match v {
                            Value::Real(r) => values.push(*r),
                            Value::Null => {}
                            _ => return Err(mismatch()),
                        }
                    }
                    column
                        .typed::<DoubleType>()
                        .write_batch(&values, Some(&defs), None)
                        .map_err(perr)?;
                }
            }
            column.close().map_err(perr)?;
            index += 1;
        }
        group.close().map_err(perr)?;
    }
    writer.close().map_err(perr)?;
    Ok(out)
}

/// Files to write: (name, bytes).
pub type ExportFiles = Vec<(String, Vec<u8>)>;

/// Every file of the export, with the manifest last, as (name, bytes).
pub fn render(
    export: &ResearchExport,
    data: &ResearchHistories,
    settings: &ExportSettings,
) -> Result<(ExportFiles, Manifest), AppError> {
    let mut files = Vec::new();
    let mut entries = Vec::new();
    let mut add = |name: String, rows: Option<usize>, bytes: Vec<u8>| {
        entries.push(FileEntry {
            name: name.clone(),
            rows,
            bytes: bytes.len(),
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
        files.push((name, bytes));
    };
    for table in export.tables() {
        let (ext, bytes) = match settings.format {
            FileFormat::Csv => ("csv", csv_bytes(table)?),
            FileFormat::Parquet => ("parquet", parquet_bytes(table)?),
        };
        add(
            format!("{}.{ext}", table.name),
            Some(table.rows.len()),
            bytes,
        );
    }
    let tables = export.tables();
    let book = codebook(&tables);
    add(
        "codebook.csv".into(),
        Some(book.rows.len()),
        csv_bytes(&book)?,
    );
    add(
        "codebook.md".into(),
        None,
        codebook_markdown(&tables).into_bytes(),
    );
    let manifest = Manifest {
        format: EXPORT_FORMAT,
        study: settings.study.clone(),
        as_of: data.cut.as_of,
        known_at: data
            .cut
            .known_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        known_at_rule: "the files hold what had happened by as_of, as recorded at known_at (by default the end of the as_of date, UTC): entries, withdrawals and corrections recorded later do not change them",
        position_cut: data.position_cut,
        events_read: data.events,
        catalogue: CATALOGUE
            .iter()
            .map(|(event_type, schema_version)| CatalogueEntry {
                event_type,
                schema_version,
            })
            .collect(),
        thresholds_fingerprint: settings.thresholds_fingerprint.clone(),
        program_version: env!("CARGO_PKG_VERSION"),
        file_format: settings.format,
        min_centre_size: settings.min_centre_size,
        shift_dates_max_days: settings.shift_dates_max_days,
        children_considered: export.children_considered,
        children_exported: export.children_exported,
        files: entries,
    };
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::Output {
        format: "JSON",
        message: e.to_string(),
    })?;
    json.push(b'\n');
    files.push(("manifest.json".into(), json));
    Ok((files, manifest))
}

/// Writes `files` into a new directory beside `dir`, then renames it to `dir` (which must not
/// exist, or be empty): the export appears whole or not at all.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), AppError> {
    let err = |e: std::io::Error| AppError::Output {
        format: "export",
        message: e.to_string(),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let staging = dir.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        std::fs::create_dir(&staging)?;
        for (file, bytes) in files {
            std::fs::write(staging.join(file), bytes)?;
        }
        std::fs::rename(&staging, dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result.map_err(err)
}
