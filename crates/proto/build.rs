//! Generates the hedui.v1 code with the vendored protoc: no machine needs
//! protoc installed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: a build script is single-threaded here; prost-build reads
    // PROTOC from the environment.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let file = root.join("hedui/v1/hedui.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("hedui_descriptor.bin"))
        .compile_protos(&[file], &[root])?;
    Ok(())
}
