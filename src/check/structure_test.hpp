// `distill test`: container-structure-test configs (GoogleContainerTools/
// container-structure-test, "Config file format"), schemaVersion "1.0.0" or
// "2.0.0", run against one image manifest with the verdicts container-structure-test
// gives (its docker driver for command tests).
//
//  - Keys are checked as CST's strict YAML decoding does: a key the schema
//    version does not have (v1 has no metadataTest, containerRunOptions, args,
//    uid, gid, isExecutableBy) or a value of the wrong type rejects the config.
//  - Test-level problems CST reports as a failed test (v2) or skips with a log
//    line (v1) are the same here: a missing name, path or command, an empty setup
//    command, an env var without key or value, an unknown isExecutableBy, an
//    empty metadata env/label key, port or volume. Skipped tests are listed in
//    TestReport::notes. A run where no test ran fails, as in CST.
//  - Regexes (expected*/excluded* lists, isRegex values) are Go's: see
//    go_regexp.hpp. A regex that does not compile fails its test.
//  - fileExistenceTests: path (v2: $VAR expanded with the image's env and
//    globalEnvVars), shouldExist (default true), permissions (Go os.FileMode
//    string of the entry itself: "-rw-r--r--", "Lrwxrwxrwx", "dtrwxrwxrwx"),
//    uid/gid (-1 or absent = unchecked), isExecutableBy (owner|group|other|any).
//  - fileContentTests: path (symlinks followed), expectedContents/excludedContents.
//  - metadataTest (v2): envVars/labels ({key, value, isRegex}), unboundEnvVars,
//    exposedPorts/unexposedPorts (the port number: "8080" matches 8080/tcp and
//    8080/udp, "8080/tcp" matches nothing, as in CST), volumes/unmountedVolumes,
//    entrypoint and cmd (absent or null = unchecked, [] = must be empty), workdir
//    and user ("" = unchecked). An empty metadataTest is no test.
//  - licenseTests: debian: true reads the copyright file of every directory in
//    /usr/share/doc (one without fails; libgnutls30 is exempt), files: more; a
//    file containing AGPL or WTFPL in any case fails.
//  - commandTests: name, setup ([[argv...]]), teardown (accepted, not run: each
//    test's container is discarded, as CST's docker driver does), envVars,
//    command (a string, with args; or a list, the v1 form) replacing entrypoint
//    and cmd, expectedOutput/excludedOutput (stdout) and expectedError/
//    excludedError (stderr), exitCode (default 0). argv and env values get $VAR
//    expanded (go_expand.hpp) with the image's env and globalEnvVars (v1: with
//    globalEnvVars and envVars only when there is a setup, as there CST commits
//    them into the image through the setup containers); a setup command's exit
//    status is ignored, one that cannot start fails the test. Each test gets a
//    fresh container.
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

// Each test keeps the problems that make it invalid (see above) in `invalid`.
struct FileExistenceTest {
  std::string name;
  std::vector<std::string> invalid;
  std::string path;
  bool should_exist = true;
  std::string permissions;  // "" = unchecked
  int64_t uid = -1;
  int64_t gid = -1;
  std::string executable_by;  // "" = unchecked
};

struct FileContentTest {
  std::string name;
  std::vector<std::string> invalid;
  std::string path;
  std::vector<std::string> expected_contents;
  std::vector<std::string> excluded_contents;
};

struct MetadataTest {
  bool present = false;  // any field set (CST skips an empty one)
  std::vector<std::string> invalid;
  std::vector<KeyValue> env_vars;
  std::vector<std::string> unbound_env_vars;
  std::vector<KeyValue> labels;
  std::vector<std::string> exposed_ports;
  std::vector<std::string> unexposed_ports;
  std::vector<std::string> volumes;
  std::vector<std::string> unmounted_volumes;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::string workdir;  // "" = unchecked
  std::string user;     // "" = unchecked
};

struct LicenseTest {
  bool debian = false;
  std::vector<std::string> files;
};

struct CommandTest {
  std::string name;
  std::vector<std::string> invalid;
  std::vector<std::vector<std::string>> setup;
  std::vector<std::vector<std::string>> teardown;
  std::vector<KeyValue> env_vars;
  std::vector<std::string> command;  // the string form is one element
  std::vector<std::string> args;
  std::vector<std::string> expected_output;
  std::vector<std::string> excluded_output;
  std::vector<std::string> expected_error;
  std::vector<std::string> excluded_error;
  int exit_code = 0;
};

struct StructureTestConfig {
  std::string origin;      // the file it came from
  int schema_version = 2;  // 1 or 2
  std::vector<KeyValue> global_env_vars;
  std::vector<FileExistenceTest> file_existence_tests;
  std::vector<FileContentTest> file_content_tests;
  MetadataTest metadata_test;
  std::vector<LicenseTest> license_tests;
  std::vector<CommandTest> command_tests;
  std::string run_user;                    // containerRunOptions.user
  std::vector<std::string> run_env_names;  // containerRunOptions.envVars: from distill's env
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
  std::vector<std::string> notes;  // tests skipped (v1), for stderr
  double seconds = 0;
  [[nodiscard]] size_t failures() const;
  // No failure, and at least one test ran.
  [[nodiscard]] bool passed() const { return failures() == 0 && !results.empty(); }
};

// Runs every test of `config`, in CST's order: command, file content, file
// existence, license, metadata. `executor` may be null when the config has no
// command tests (each one then fails saying no executor is available).
// The files the configs' file content and license tests read, by their name
// in a layer: an ImageView loaded with this keeps them (those up to 1 MiB),
// and the tests read no layer again for them.
ImageView::KeepFn structure_test_reads(const std::vector<StructureTestConfig>& configs);

TestReport run_structure_tests(const StructureTestConfig& config, const ImageView& view,
                               const oci::ImageConfig& image_config, CommandExecutor* executor);

std::string report_text(const TestReport& report);
std::string report_json(const TestReport& report);
std::string report_junit(const TestReport& report);

}  // namespace distill::check
