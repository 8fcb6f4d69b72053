// The registry flags of every command that reads an image (inspect, run, test,
// audit, sbom): --creds, --authfile, --tls-verify, --cert-dir, turned into the
// oci::SourceOptions that oci::open_image takes. Credentials not given here are
// found in the usual places (oci/credentials.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "oci/source.hpp"
#include "util/result.hpp"

namespace distill::cli {

struct SourceFlags {
  std::string creds;
  std::filesystem::path auth_file;
  std::string tls_verify = "true";
  std::filesystem::path cert_dir;
};

// Declares the flags on `cmd`, storing into `flags` (which must outlive it).
void add_source_flags(CLI::App* cmd, SourceFlags& flags);

// InvalidInput "usage: ..." for a malformed --creds.
Result<oci::SourceOptions> source_options(const SourceFlags& flags);

}  // namespace distill::cli
