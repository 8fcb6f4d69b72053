// `distill test`: container-structure-test configs, schemaVersion 2.0.0
// (GoogleContainerTools/container-structure-test, "Config file format"), run against
// one image manifest.
//
//  - fileExistenceTests: path, shouldExist (default true), permissions (Go
//    os.FileMode string of the entry itself: "-rw-r--r--", "Lrwxrwxrwx",
//    "dtrwxrwxrwx"), uid/gid (-1 or absent = unchecked), isExecutableBy
//    (owner|group|other|any).
//  - fileContentTests: path (symlinks followed), expectedContents/excludedContents
//    (regex lists; Go's inline flags (?i) (?m) (?s) at the start are understood).
//  - metadataTest: envVars/labels ({key, value, isRegex}), unboundEnvVars,
//    exposedPorts/unexposedPorts, volumes/unmountedVolumes, entrypoint and cmd
//    (absent = unchecked, [] = must be empty), workdir, user.
//  - licenseTests: debian: true scans every /usr/share/doc/*/copyright, files: more;
//    AGPL or WTFPL fails.
//  - commandTests: name, setup/teardown ([[argv...]]), envVars, command + args
//    (replace entrypoint and cmd), expectedOutput/excludedOutput (stdout) and
//    expectedError/excludedError (stderr) regex lists, exitCode (default 0);
//    each test gets a fresh container; globalEnvVars apply to every command.
// Every failure message says what was expected and what was found.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/container_exec.hpp"
#include "check/image_view.hpp"
#include "oci/image_config.hpp"
#include "util/result.hpp"

namespace distill::check {

struct KeyValue {
  std::string key;
  std::string value;
  bool is_regex = false;
};

struct FileExistenceTest {
  std::string name;
  std::string path;
  bool should_exist = true;
  std::string permissions;  // "" = unchecked
  int64_t uid = -1;
  int64_t gid = -1;
  std::string executable_by;  // "" = unchecked
};

struct FileContentTest {
  std::string name;
  std::string path;
  std::vector<std::string> expected_contents;
  std::vector<std::string> excluded_contents;
};

struct MetadataTest {
  bool present = false;
  std::vector<KeyValue> env_vars;
  std::vector<std::string> unbound_env_vars;
  std::vector<KeyValue> labels;
  std::vector<std::string> exposed_ports;
  std::vector<std::string> unexposed_ports;
  std::vector<std::string> volumes;
  std::vector<std::string> unmounted_volumes;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::optional<std::string> workdir;
  std::optional<std::string> user;
};

struct LicenseTest {
  bool debian = false;
  std::vector<std::string> files;
};

struct CommandTest {
  std::string name;
  std::vector<std::vector<std::string>> setup;
  std::vector<std::vector<std::string>> teardown;
  std::vector<KeyValue> env_vars;
  std::string command;
  std::vector<std::string> args;
  std::vector<std::string> expected_output;
  std::vector<std::string> excluded_output;
  std::vector<std::string> expected_error;
  std::vector<std::string> excluded_error;
  int exit_code = 0;
};

struct StructureTestConfig {
  std::string origin;  // the file it came from
  std::vector<KeyValue> global_env_vars;
  std::vector<FileExistenceTest> file_existence_tests;
  std::vector<FileContentTest> file_content_tests;
  MetadataTest metadata_test;
  std::vector<LicenseTest> license_tests;
  std::vector<CommandTest> command_tests;
  std::string run_user;  // containerRunOptions.user
};

// Parses a config; every problem (bad YAML, wrong schemaVersion, unknown key,
// wrong type) is collected into one InvalidInput error, one "origin:line: why" line
// each.
Result<StructureTestConfig> parse_structure_test(std::string_view yaml, const std::string& origin);
Result<StructureTestConfig> load_structure_test(const std::string& path);

struct TestResult {
  std::string name;  // "File Existence Test: /etc/passwd"
  bool passed = true;
  std::vector<std::string> errors;  // "expected ...; found ..."
  std::string stdout_data;          // command tests
  std::string stderr_data;
  double seconds = 0;
};

struct TestReport {
  std::vector<TestResult> results;
  double seconds = 0;
  [[nodiscard]] size_t failures() const;
  [[nodiscard]] bool passed() const { return failures() == 0; }
};

// Runs every test of `config`. `executor` may be null when the config has no
// command tests (each one then fails saying no executor is available).
TestReport run_structure_tests(const StructureTestConfig& config, const ImageView& view,
                               const oci::ImageConfig& image_config, CommandExecutor* executor);

std::string report_text(const TestReport& report);
std::string report_json(const TestReport& report);
std::string report_junit(const TestReport& report);

}  // namespace distill::check
