// Container-structure-test configs: YAML parsing (yaml-cpp, every throw caught
// here), running each test kind, and the text/json/junit reports. See
// structure_test.hpp for the supported schema and the semantics it follows.
#include "check/structure_test.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/tar_entry.hpp"
#include "check/debian_licenses.hpp"
#include "check/go_expand.hpp"
#include "check/go_regexp.hpp"
#include "util/file_io.hpp"

namespace distill::check {

namespace {

using Clock = std::chrono::steady_clock;

// ---- YAML -----------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string origin) : m_origin(std::move(origin)) {}

  void error(const YAML::Node& node, const std::string& why) {
    int line = node.IsDefined() ? node.Mark().line + 1 : 0;
    m_errors.push_back(m_origin + (line > 0 ? ":" + std::to_string(line) : "") + ": " + why);
  }

  // Reports keys of `node` (a map) that are not in `known`.
  void check_keys(const YAML::Node& node, const std::set<std::string>& known,
                  const std::string& where) {
    if (!node.IsMap()) {
      error(node, where + ": expected a mapping");
      return;
    }
    for (const auto& item : node) {
      std::string key = item.first.Scalar();
      if (known.count(key) == 0) {
        error(item.first, where + ": unknown key \"" + key + "\"");
      }
    }
  }

  std::string string(const YAML::Node& node, const std::string& where) {
    if (!node.IsDefined() || node.IsNull()) {
      return {};
    }
    if (!node.IsScalar()) {
      error(node, where + ": expected a string");
      return {};
    }
    return node.Scalar();
  }

  bool boolean(const YAML::Node& node, const std::string& where, bool fallback) {
    if (!node.IsDefined() || node.IsNull()) {
      return fallback;
    }
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
      error(node, where + ": expected true or false, found \"" + node.Scalar() + "\"");
      return fallback;
    }
  }

  int64_t integer(const YAML::Node& node, const std::string& where, int64_t fallback) {
    if (!node.IsDefined() || node.IsNull()) {
      return fallback;
    }
    try {
      return node.as<int64_t>();
    } catch (const YAML::Exception&) {
      error(node, where + ": expected an integer, found \"" + node.Scalar() + "\"");
      return fallback;
    }
  }

  std::vector<std::string> strings(const YAML::Node& node, const std::string& where) {
    std::vector<std::string> out;
    if (!node.IsDefined() || node.IsNull()) {
      return out;
    }
    if (!node.IsSequence()) {
      error(node, where + ": expected a list of strings");
      return out;
    }
    for (const auto& item : node) {
      out.push_back(string(item, where));
    }
    return out;
  }

  std::optional<std::vector<std::string>> optional_strings(const YAML::Node& node,
                                                           const std::string& where) {
    if (!node.IsDefined() || node.IsNull()) {
      return std::nullopt;
    }
    return strings(node, where);
  }

  std::vector<std::vector<std::string>> commands(const YAML::Node& node, const std::string& where) {
    std::vector<std::vector<std::string>> out;
    if (!node.IsDefined() || node.IsNull()) {
      return out;
    }
    if (!node.IsSequence()) {
      error(node, where + ": expected a list of commands ([[\"cmd\", \"arg\"], ...])");
      return out;
    }
    for (const auto& item : node) {
      out.push_back(strings(item, where));
    }
    return out;
  }

  // A command test's `command`: a string (v2) or a list (v1), either accepted.
  std::vector<std::string> argv(const YAML::Node& node, const std::string& where) {
    if (!node.IsDefined() || node.IsNull()) {
      return {};
    }
    if (node.IsScalar()) {
      return {node.Scalar()};
    }
    if (!node.IsSequence()) {
      error(node, where + ": expected a string or a list of strings");
      return {};
    }
    return strings(node, where);
  }

  std::vector<KeyValue> key_values(const YAML::Node& node, const std::string& where) {
    std::vector<KeyValue> out;
    if (!node.IsDefined() || node.IsNull()) {
      return out;
    }
    if (!node.IsSequence()) {
      error(node, where + ": expected a list of {key, value}");
      return out;
    }
    for (const auto& item : node) {
      check_keys(item, {"key", "value", "isRegex"}, where);
      if (!item.IsMap()) {
        continue;
      }
      KeyValue kv;
      kv.key = string(item["key"], where + ".key");
      kv.value = string(item["value"], where + ".value");
      kv.is_regex = boolean(item["isRegex"], where + ".isRegex", false);
      out.push_back(std::move(kv));
    }
    return out;
  }

  std::vector<std::string> keys(const YAML::Node& node, const std::string& where) {
    // unboundEnvVars: [{key: X}] (also plain strings).
    std::vector<std::string> out;
    if (!node.IsDefined() || node.IsNull()) {
      return out;
    }
    if (!node.IsSequence()) {
      error(node, where + ": expected a list");
      return out;
    }
    for (const auto& item : node) {
      if (item.IsScalar()) {
        out.push_back(item.Scalar());
      } else {
        check_keys(item, {"key", "value", "isRegex"}, where);
        if (item.IsMap()) {
          out.push_back(string(item["key"], where + ".key"));
        }
      }
    }
    return out;
  }

  [[nodiscard]] const std::vector<std::string>& errors() const { return m_errors; }

 private:
  std::string m_origin;
  std::vector<std::string> m_errors;
};

// The keys of each schema version, as CST's strict decoding knows them.
struct Schema {
  std::set<std::string> top;
  std::set<std::string> file_existence;
  std::set<std::string> command;
};

const Schema& schema(int version) {
  static const Schema v1{{"schemaVersion", "globalEnvVars", "commandTests", "fileExistenceTests",
                          "fileContentTests", "licenseTests"},
                         {"name", "path", "shouldExist", "permissions"},
                         {"name", "setup", "teardown", "envVars", "exitCode", "command",
                          "expectedOutput", "excludedOutput", "expectedError", "excludedError"}};
  static const Schema v2{
      {"schemaVersion", "globalEnvVars", "commandTests", "fileExistenceTests", "fileContentTests",
       "metadataTest", "licenseTests", "containerRunOptions"},
      {"name", "path", "shouldExist", "permissions", "uid", "gid", "isExecutableBy"},
      {"name", "setup", "teardown", "envVars", "exitCode", "command", "args", "expectedOutput",
       "excludedOutput", "expectedError", "excludedError"}};
  return version == 1 ? v1 : v2;
}

// Calls `fn` for each item of the list `root[key]` that is a mapping.
void for_each_item(Parser& p, const YAML::Node& root, const std::string& key,
                   const std::set<std::string>& known,
                   const std::function<void(const YAML::Node&)>& fn) {
  const YAML::Node list = root[key];
  if (!list.IsDefined() || list.IsNull()) {
    return;
  }
  if (!list.IsSequence()) {
    p.error(list, key + ": expected a list");
    return;
  }
  for (const auto& item : list) {
    p.check_keys(item, known, key);
    if (item.IsMap()) {
      fn(item);
    }
  }
}

void parse_config(Parser& p, const YAML::Node& root, StructureTestConfig& config) {
  if (!root.IsMap()) {
    p.error(root, "config: expected a mapping");
    return;
  }
  const YAML::Node version_node = root["schemaVersion"];
  const std::string version = p.string(version_node, "schemaVersion");
  if (version == "1.0.0") {
    config.schema_version = 1;
  } else if (version == "2.0.0") {
    config.schema_version = 2;
  } else {
    p.error(version_node.IsDefined() ? version_node : root,
            version.empty()
                ? "schemaVersion: missing (\"1.0.0\" or \"2.0.0\")"
                : "schemaVersion: expected \"1.0.0\" or \"2.0.0\", found \"" + version + "\"");
    return;
  }
  const Schema& keys = schema(config.schema_version);
  const bool v2 = config.schema_version == 2;
  p.check_keys(root, keys.top, "config");
  config.global_env_vars = p.key_values(root["globalEnvVars"], "globalEnvVars");

  for_each_item(p, root, "fileExistenceTests", keys.file_existence, [&](const YAML::Node& item) {
    const std::string where = "fileExistenceTests";
    FileExistenceTest test;
    test.name = p.string(item["name"], where + ".name");
    test.path = p.string(item["path"], where + ".path");
    test.should_exist = p.boolean(item["shouldExist"], where + ".shouldExist", true);
    test.permissions = p.string(item["permissions"], where + ".permissions");
    if (v2) {
      test.uid = p.integer(item["uid"], where + ".uid", -1);
      test.gid = p.integer(item["gid"], where + ".gid", -1);
      test.executable_by = p.string(item["isExecutableBy"], where + ".isExecutableBy");
    }
    if (test.name.empty()) {
      test.invalid.push_back("missing name");
    }
    if (test.path.empty()) {
      test.invalid.push_back("missing path");
    }
    config.file_existence_tests.push_back(std::move(test));
  });
  for_each_item(
      p, root, "fileContentTests", {"name", "path", "expectedContents", "excludedContents"},
      [&](const YAML::Node& item) {
        const std::string where = "fileContentTests";
        FileContentTest test;
        test.name = p.string(item["name"], where + ".name");
        test.path = p.string(item["path"], where + ".path");
        test.expected_contents = p.strings(item["expectedContents"], where + ".expectedContents");
        test.excluded_contents = p.strings(item["excludedContents"], where + ".excludedContents");
        if (test.name.empty()) {
          test.invalid.push_back("missing name");
        }
        if (test.path.empty()) {
          test.invalid.push_back("missing path");
        }
        config.file_content_tests.push_back(std::move(test));
      });
  if (const YAML::Node node = root["metadataTest"]; node.IsDefined() && !node.IsNull()) {
    const std::string where = "metadataTest";
    p.check_keys(node,
                 {"envVars", "unboundEnvVars", "labels", "exposedPorts", "unexposedPorts",
                  "volumes", "unmountedVolumes", "entrypoint", "cmd", "workdir", "user"},
                 where);
    if (node.IsMap()) {
      MetadataTest& test = config.metadata_test;
      test.env_vars = p.key_values(node["envVars"], where + ".envVars");
      test.unbound_env_vars = p.keys(node["unboundEnvVars"], where + ".unboundEnvVars");
      test.labels = p.key_values(node["labels"], where + ".labels");
      test.exposed_ports = p.strings(node["exposedPorts"], where + ".exposedPorts");
      test.unexposed_ports = p.strings(node["unexposedPorts"], where + ".unexposedPorts");
      test.volumes = p.strings(node["volumes"], where + ".volumes");
      test.unmounted_volumes = p.strings(node["unmountedVolumes"], where + ".unmountedVolumes");
      test.entrypoint = p.optional_strings(node["entrypoint"], where + ".entrypoint");
      test.cmd = p.optional_strings(node["cmd"], where + ".cmd");
      test.workdir = p.string(node["workdir"], where + ".workdir");
      test.user = p.string(node["user"], where + ".user");
      test.present = !test.env_vars.empty() || !test.unbound_env_vars.empty() ||
                     !test.labels.empty() || !test.exposed_ports.empty() ||
                     !test.unexposed_ports.empty() || !test.volumes.empty() ||
                     !test.unmounted_volumes.empty() || test.entrypoint || test.cmd ||
                     !test.workdir.empty() || !test.user.empty();
      auto any_empty_key = [](const std::vector<KeyValue>& list) {
        return std::any_of(list.begin(), list.end(),
                           [](const KeyValue& kv) { return kv.key.empty(); });
      };
      auto any_empty = [](const std::vector<std::string>& list) {
        return std::any_of(list.begin(), list.end(),
                           [](const std::string& item) { return item.empty(); });
      };
      if (any_empty_key(test.env_vars)) {
        test.invalid.push_back("an envVars entry has an empty key");
      }
      if (any_empty_key(test.labels)) {
        test.invalid.push_back("a labels entry has an empty key");
      }
      if (any_empty(test.exposed_ports)) {
        test.invalid.push_back("an exposedPorts entry is empty");
      }
      if (any_empty(test.volumes)) {
        test.invalid.push_back("a volumes entry is empty");
      }
    }
  }
  for_each_item(p, root, "licenseTests", {"debian", "files"}, [&](const YAML::Node& item) {
    LicenseTest test;
    test.debian = p.boolean(item["debian"], "licenseTests.debian", false);
    test.files = p.strings(item["files"], "licenseTests.files");
    config.license_tests.push_back(std::move(test));
  });
  for_each_item(p, root, "commandTests", keys.command, [&](const YAML::Node& item) {
    const std::string where = "commandTests";
    CommandTest test;
    test.name = p.string(item["name"], where + ".name");
    test.setup = p.commands(item["setup"], where + ".setup");
    test.teardown = p.commands(item["teardown"], where + ".teardown");
    test.env_vars = p.key_values(item["envVars"], where + ".envVars");
    test.command = p.argv(item["command"], where + ".command");
    test.args = p.strings(item["args"], where + ".args");
    test.expected_output = p.strings(item["expectedOutput"], where + ".expectedOutput");
    test.excluded_output = p.strings(item["excludedOutput"], where + ".excludedOutput");
    test.expected_error = p.strings(item["expectedError"], where + ".expectedError");
    test.excluded_error = p.strings(item["excludedError"], where + ".excludedError");
    test.exit_code = static_cast<int>(p.integer(item["exitCode"], where + ".exitCode", 0));
    if (test.name.empty()) {
      test.invalid.push_back("missing name");
    }
    if (test.command.empty() || test.command.front().empty()) {
      test.invalid.push_back("missing command");
    }
    for (const auto* list : {&test.setup, &test.teardown}) {
      if (std::any_of(list->begin(), list->end(), [](const auto& argv) { return argv.empty(); })) {
        test.invalid.push_back(std::string("an empty ") +
                               (list == &test.setup ? "setup" : "teardown") + " command");
      }
    }
    if (std::any_of(test.env_vars.begin(), test.env_vars.end(),
                    [](const KeyValue& kv) { return kv.key.empty() || kv.value.empty(); })) {
      test.invalid.push_back("an envVars entry needs a key and a value");
    }
    config.command_tests.push_back(std::move(test));
  });
  if (const YAML::Node node = root["containerRunOptions"]; node.IsDefined() && !node.IsNull()) {
    p.check_keys(
        node,
        {"user", "privileged", "allocateTty", "envFile", "envVars", "capabilities", "bindMounts"},
        "containerRunOptions");
    if (node.IsMap()) {
      config.run_user = p.string(node["user"], "containerRunOptions.user");
      config.run_env_names = p.strings(node["envVars"], "containerRunOptions.envVars");
    }
  }
}

// ---- regular expressions: Go's, see go_regexp.hpp ---------------------------

// Quotes `text` for a message, shortened to keep one line readable.
std::string show(const std::string& text) {
  constexpr size_t k_limit = 400;
  std::string shown = text.size() > k_limit ? text.substr(0, k_limit) + "..." : text;
  return nlohmann::json(shown).dump();
}

void check_regexes(const std::vector<std::string>& expected,
                   const std::vector<std::string>& excluded, const std::string& text,
                   const std::string& what, std::vector<std::string>& errors) {
  if (expected.empty() && excluded.empty()) {
    return;
  }
  const GoText go_text(text);
  for (const auto& pattern : expected) {
    auto compiled = GoRegexp::compile(pattern);
    if (!compiled.ok()) {
      errors.push_back(compiled.error().message);
    } else if (!compiled->search(go_text)) {
      errors.push_back("expected " + what + " to match " + show(pattern) + ", found " + show(text));
    }
  }
  for (const auto& pattern : excluded) {
    auto compiled = GoRegexp::compile(pattern);
    if (!compiled.ok()) {
      errors.push_back(compiled.error().message);
    } else if (auto match = compiled->find(go_text)) {
      errors.push_back("expected " + what + " not to match " + show(pattern) + ", found " +
                       show(std::string(*match)) + " in " + show(text));
    }
  }
}

// ---- the tests ---------------------------------------------------------------

std::string parent_resolved(const ImageView& view, const std::string& path) {
  size_t slash = path.rfind('/');
  std::string parent = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  auto resolved = view.resolve(parent);
  if (!resolved.ok()) {
    return path;
  }
  return (*resolved == "/" ? "" : *resolved) + "/" + name;
}

// A test that CST would not run: "missing name; missing path".
TestResult invalid_test(const std::string& name, const std::vector<std::string>& problems) {
  TestResult result;
  result.name = name;
  std::string why;
  for (const auto& problem : problems) {
    why += (why.empty() ? "" : "; ") + problem;
  }
  result.errors.push_back("expected a valid test, found: " + why);
  result.passed = false;
  return result;
}

std::string test_name(const std::string& kind, const std::string& name) {
  return name.empty() ? kind + " without a name" : kind + ": " + name;
}

TestResult file_existence(const FileExistenceTest& test, const ImageView& view,
                          const std::map<std::string, std::string>& env) {
  TestResult result;
  result.name = test_name("File Existence Test", test.name);
  std::string path = env.empty() ? test.path : go_expand(test.path, env);
  while (path.size() > 1 && path.back() == '/') {
    path.pop_back();
  }
  const FileInfo* info = nullptr;
  FileInfo root_info{archive::EntryType::Directory, 0755};
  if (path == "/") {
    info = &root_info;
  } else {
    info = view.lstat(parent_resolved(view, path));
  }
  if (!test.should_exist) {
    if (info != nullptr) {
      result.errors.push_back("expected " + path + " not to exist, found " + go_file_mode(*info) +
                              " " + std::to_string(info->uid) + ":" + std::to_string(info->gid));
    }
    result.passed = result.errors.empty();
    return result;
  }
  if (info == nullptr) {
    result.errors.push_back("expected " + path + " to exist, found nothing");
    result.passed = false;
    return result;
  }
  std::string mode = go_file_mode(*info);
  if (!test.permissions.empty() && mode != test.permissions) {
    result.errors.push_back(path + ": expected permissions " + test.permissions + ", found " +
                            mode);
  }
  if (!test.executable_by.empty()) {
    const std::string& by = test.executable_by;
    const uint32_t bits = by == "owner" ? 0100 : by == "group" ? 0010 : by == "other" ? 0001 : 0111;
    if (by != "owner" && by != "group" && by != "other" && by != "any") {
      result.errors.push_back("isExecutableBy: expected owner, group, other or any, found " +
                              show(by));
    } else if ((info->mode & bits) == 0) {
      result.errors.push_back(path + ": expected to be executable by " + by +
                              ", found permissions " + mode);
    }
  }
  if (test.uid >= 0 && info->uid != static_cast<uint64_t>(test.uid)) {
    result.errors.push_back(path + ": expected uid " + std::to_string(test.uid) + ", found " +
                            std::to_string(info->uid));
  }
  if (test.gid >= 0 && info->gid != static_cast<uint64_t>(test.gid)) {
    result.errors.push_back(path + ": expected gid " + std::to_string(test.gid) + ", found " +
                            std::to_string(info->gid));
  }
  result.passed = result.errors.empty();
  return result;
}

TestResult file_content(const FileContentTest& test, const ImageView& view) {
  TestResult result;
  result.name = test_name("File Content Test", test.name);
  auto content = view.read_file(test.path);
  if (!content.ok()) {
    result.errors.push_back("expected " + test.path +
                            " to be a readable file, found: " + content.error().message);
  } else {
    check_regexes(test.expected_contents, test.excluded_contents, *content,
                  "contents of " + test.path, result.errors);
  }
  result.passed = result.errors.empty();
  return result;
}

bool value_matches(const KeyValue& kv, const std::string& actual,
                   std::vector<std::string>& errors) {
  if (!kv.is_regex) {
    return kv.value == actual;
  }
  auto compiled = GoRegexp::compile(kv.value);
  if (!compiled.ok()) {
    errors.push_back(compiled.error().message);
    return true;
  }
  const GoText text(actual);
  return compiled->search(text);
}

std::string list_text(const std::vector<std::string>& list) { return nlohmann::json(list).dump(); }

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

TestResult metadata(const MetadataTest& test, const oci::ImageConfig& config) {
  TestResult result;
  result.name = "Metadata Test";
  auto& errors = result.errors;
  auto env = oci::env_map(config.env);
  for (const auto& kv : test.env_vars) {
    auto it = env.find(kv.key);
    if (it == env.end()) {
      errors.push_back("expected env var " + kv.key + (kv.is_regex ? " matching " : "=") +
                       show(kv.value) + ", found it unset");
    } else if (!value_matches(kv, it->second, errors)) {
      errors.push_back("expected env var " + kv.key + (kv.is_regex ? " to match " : "=") +
                       show(kv.value) + ", found " + show(it->second));
    }
  }
  for (const auto& key : test.unbound_env_vars) {
    auto it = env.find(key);
    if (it != env.end()) {
      errors.push_back("expected env var " + key + " to be unset, found " + show(it->second));
    }
  }
  for (const auto& kv : test.labels) {
    auto it = config.labels.find(kv.key);
    if (it == config.labels.end()) {
      errors.push_back("expected label " + kv.key + (kv.is_regex ? " matching " : "=") +
                       show(kv.value) + ", found no such label");
    } else if (!value_matches(kv, it->second, errors)) {
      errors.push_back("expected label " + kv.key + (kv.is_regex ? " to match " : "=") +
                       show(kv.value) + ", found " + show(it->second));
    }
  }
  const std::vector<std::string> no_list;
  if (test.cmd) {
    const auto& have = config.cmd ? *config.cmd : no_list;
    if (have != *test.cmd) {
      errors.push_back("expected cmd " + list_text(*test.cmd) + ", found " + list_text(have));
    }
  }
  if (test.entrypoint) {
    const auto& have = config.entrypoint ? *config.entrypoint : no_list;
    if (have != *test.entrypoint) {
      errors.push_back("expected entrypoint " + list_text(*test.entrypoint) + ", found " +
                       list_text(have));
    }
  }
  if (!test.workdir.empty() && test.workdir != config.working_dir) {
    errors.push_back("expected workdir " + show(test.workdir) + ", found " +
                     show(config.working_dir));
  }
  if (!test.user.empty() && test.user != config.user) {
    errors.push_back("expected user " + show(test.user) + ", found " + show(config.user));
  }
  // CST compares the port numbers of the image ("8080/tcp" -> "8080").
  std::vector<std::string> ports;
  for (const auto& port : config.exposed_ports) {
    ports.push_back(port.substr(0, port.find('/')));
  }
  for (const auto& port : test.exposed_ports) {
    if (!contains(ports, port)) {
      errors.push_back("expected port " + port + " to be exposed, found " + list_text(ports));
    }
  }
  for (const auto& port : test.unexposed_ports) {
    if (contains(ports, port)) {
      errors.push_back("expected port " + port + " not to be exposed, found " + list_text(ports));
    }
  }
  for (const auto& volume : test.volumes) {
    if (!contains(config.volumes, volume)) {
      errors.push_back("expected volume " + volume + ", found " + list_text(config.volumes));
    }
  }
  for (const auto& volume : test.unmounted_volumes) {
    if (contains(config.volumes, volume)) {
      errors.push_back("expected no volume " + volume + ", found " + list_text(config.volumes));
    }
  }
  result.passed = errors.empty();
  return result;
}

bool contains_upper(const std::string& text, std::string_view word) {
  auto it = std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
    return (a >= 'a' && a <= 'z' ? static_cast<char>(a - 'a' + 'A') : a) == b;
  });
  return it != text.end();
}

TestResult license(const LicenseTest& test, const ImageView& view) {
  constexpr std::string_view k_doc = "/usr/share/doc";
  TestResult result;
  result.name = "License Test";
  auto& errors = result.errors;
  std::vector<std::string> paths;
  if (test.debian) {
    auto doc = view.resolve(k_doc);
    const FileInfo* info = doc.ok() ? view.stat(*doc) : nullptr;
    if (info == nullptr || !info->is_dir()) {
      errors.push_back("expected the directory " + std::string(k_doc) + ", found " +
                       (info == nullptr ? "nothing" : go_file_mode(*info)));
      result.passed = false;
      return result;
    }
    for (const auto& name : view.list_dir(*doc)) {
      const FileInfo* entry = view.lstat(*doc + "/" + name);
      // Only real directories count; libgnutls30 is exempt in CST.
      if (entry == nullptr || !entry->is_dir() || name == "libgnutls30") {
        continue;
      }
      const std::string path = std::string(k_doc) + "/" + name + "/copyright";
      if (view.lstat(*doc + "/" + name + "/copyright") == nullptr) {
        errors.push_back("expected " + path + " to exist, found nothing");
        continue;
      }
      paths.push_back(path);
    }
  }
  paths.insert(paths.end(), test.files.begin(), test.files.end());
  auto contents = view.read_files(paths);
  if (!contents.ok()) {
    errors.push_back("expected readable license files, found: " + contents.error().message);
  } else {
    for (const auto& path : paths) {
      auto it = contents->find(path);
      if (it == contents->end()) {
        errors.push_back("expected license file " + path + " to be a readable file, found " +
                         (view.stat(path) == nullptr ? "nothing" : go_file_mode(*view.stat(path))));
        continue;
      }
      for (const char* banned : {"AGPL", "WTFPL"}) {
        if (contains_upper(it->second, banned)) {
          errors.push_back("expected no " + std::string(banned) + " license, found " + banned +
                           " in " + path);
        }
      }
    }
  }
  result.passed = errors.empty();
  return result;
}

std::string argv_text(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    out += (out.empty() ? "" : " ") + arg;
  }
  return out;
}

// The environment CST's docker driver leaves for a command test: values are
// $VAR-expanded against the image's env as it is before each list is applied.
struct CommandEnv {
  std::map<std::string, std::string> image;  // what $VAR in argv sees
  std::vector<std::string> committed;        // K=V applied to the image (setup sees them)

  void apply(const std::vector<KeyValue>& vars) {
    const std::map<std::string, std::string> before = image;
    for (const auto& kv : vars) {
      std::string value = go_expand(kv.value, before);
      committed.push_back(kv.key + "=" + value);
      image[kv.key] = std::move(value);
    }
  }
};

TestResult command(const CommandTest& test, const StructureTestConfig& config,
                   const oci::ImageConfig& image_config, CommandExecutor* executor) {
  TestResult result;
  result.name = test_name("Command Test", test.name);
  auto& errors = result.errors;
  if (executor == nullptr) {
    errors.push_back("expected to run " + show(argv_text(test.command)) +
                     ", found no way to run containers");
    result.passed = false;
    return result;
  }
  CommandEnv env{oci::env_map(image_config.env), {}};
  const bool has_setup = !test.setup.empty();
  if (config.schema_version == 1) {
    // v1: globalEnvVars and envVars reach the image only through setup containers.
    if (has_setup) {
      std::vector<KeyValue> all = config.global_env_vars;
      all.insert(all.end(), test.env_vars.begin(), test.env_vars.end());
      env.apply(all);
    }
  } else {
    env.apply(config.global_env_vars);
    if (has_setup) {
      env.apply(test.env_vars);
    }
  }
  std::vector<std::string> command_env = env.committed;
  for (const auto& kv : test.env_vars) {
    command_env.push_back(kv.key + "=" + kv.value);  // as given, over the expanded one
  }
  command_env.insert(command_env.end(), config.run_env_names.begin(), config.run_env_names.end());

  Status reset = executor->reset();
  if (!reset.ok()) {
    errors.push_back("expected a fresh container, found: " + reset.error().message);
  }
  bool ready = reset.ok();
  for (const auto& argv : test.setup) {
    if (!ready) {
      break;
    }
    // CST ignores a setup command's exit status, not a failure to start it.
    auto outcome = executor->exec({argv, env.committed, config.run_user});
    if (!outcome.ok()) {
      errors.push_back("setup command " + show(argv_text(argv)) +
                       ": expected to run, found: " + outcome.error().message);
      ready = false;
    }
  }
  if (ready) {
    std::vector<std::string> argv;
    for (const auto* list : {&test.command, &test.args}) {
      for (const auto& arg : *list) {
        argv.push_back(go_expand(arg, env.image));
      }
    }
    auto outcome = executor->exec({argv, command_env, config.run_user});
    if (!outcome.ok()) {
      errors.push_back("expected " + show(argv_text(argv)) +
                       " to run, found: " + outcome.error().message);
    } else {
      result.stdout_data = outcome->stdout_data;
      result.stderr_data = outcome->stderr_data;
      if (outcome->exit_code != test.exit_code) {
        errors.push_back("expected exit code " + std::to_string(test.exit_code) + ", found " +
                         std::to_string(outcome->exit_code) + " (stderr " +
                         show(outcome->stderr_data) + ")");
      }
      check_regexes(test.expected_output, test.excluded_output, outcome->stdout_data, "stdout",
                    errors);
      check_regexes(test.expected_error, test.excluded_error, outcome->stderr_data, "stderr",
                    errors);
    }
  }
  (void)executor->reset();
  result.passed = errors.empty();
  return result;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3f", seconds);
  return buffer;
}

}  // namespace

Result<StructureTestConfig> parse_structure_test(std::string_view yaml, const std::string& origin) {
  Parser parser(origin);
  StructureTestConfig config;
  config.origin = origin;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsDefined() || root.IsNull()) {
      return make_error(ErrorKind::InvalidInput, origin + ": empty structure-test config");
    }
    parse_config(parser, root, config);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorKind::InvalidInput,
                      origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!parser.errors().empty()) {
    std::string message;
    for (const auto& line : parser.errors()) {
      message += (message.empty() ? "" : "\n") + line;
    }
    return make_error(ErrorKind::InvalidInput, message);
  }
  return config;
}

Result<StructureTestConfig> load_structure_test(const std::string& path) {
  DISTILL_TRY(std::string text, util::read_file(path));
  return parse_structure_test(text, path);
}

size_t TestReport::failures() const {
  return static_cast<size_t>(
      std::count_if(results.begin(), results.end(), [](const TestResult& r) { return !r.passed; }));
}

ImageView::KeepFn structure_test_reads(const std::vector<StructureTestConfig>& configs) {
  auto names = std::make_shared<std::set<std::string, std::less<>>>();
  bool copyrights = false;
  // As a layer names it ("/etc/passwd" -> "etc/passwd"); a path no layer
  // could hold is read as before.
  auto add = [&](const std::string& path) {
    if (auto name = archive::normalize_path(path, "test"); name.ok()) {
      names->insert(std::move(*name));
    }
  };
  for (const auto& config : configs) {
    for (const auto& test : config.file_content_tests) {
      add(test.path);
    }
    for (const auto& test : config.license_tests) {
      copyrights |= test.debian;
      for (const auto& file : test.files) {
        add(file);
      }
    }
  }
  return [names, copyrights](std::string_view tar_path) {
    return names->count(tar_path) != 0 || (copyrights && is_copyright_file(tar_path));
  };
}

TestReport run_structure_tests(const StructureTestConfig& config, const ImageView& view,
                               const oci::ImageConfig& image_config, CommandExecutor* executor) {
  TestReport report;
  const auto start = Clock::now();
  const bool v1 = config.schema_version == 1;
  // A test CST finds invalid: a failed result in v2, skipped with a log line in v1.
  auto valid = [&](const std::string& name, const std::vector<std::string>& invalid) {
    if (invalid.empty()) {
      return true;
    }
    if (v1) {
      TestResult skipped = invalid_test(name, invalid);
      report.notes.push_back(config.origin + ": skipped " + name +
                             " (schemaVersion 1.0.0): " + skipped.errors.front());
    } else {
      report.results.push_back(invalid_test(name, invalid));
    }
    return false;
  };
  auto timed = [&](const std::function<TestResult()>& fn) {
    const auto begin = Clock::now();
    TestResult result = fn();
    result.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    report.results.push_back(std::move(result));
  };
  // v2 file existence paths see globalEnvVars (CST sets them on the image first).
  std::map<std::string, std::string> path_env;
  if (!v1) {
    CommandEnv env{oci::env_map(image_config.env), {}};
    env.apply(config.global_env_vars);
    path_env = std::move(env.image);
  }
  // CST's order: command, file content, file existence, license, metadata.
  for (const auto& test : config.command_tests) {
    if (valid(test_name("Command Test", test.name), test.invalid)) {
      timed([&] { return command(test, config, image_config, executor); });
    }
  }
  for (const auto& test : config.file_content_tests) {
    if (valid(test_name("File Content Test", test.name), test.invalid)) {
      timed([&] { return file_content(test, view); });
    }
  }
  for (const auto& test : config.file_existence_tests) {
    if (valid(test_name("File Existence Test", test.name), test.invalid)) {
      timed([&] { return file_existence(test, view, path_env); });
    }
  }
  for (const auto& test : config.license_tests) {
    timed([&] { return license(test, view); });
  }
  if (config.metadata_test.present && valid("Metadata Test", config.metadata_test.invalid)) {
    timed([&] { return metadata(config.metadata_test, image_config); });
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

std::string report_text(const TestReport& report) {
  std::string out;
  for (const auto& result : report.results) {
    out += "=== RUN: " + result.name + "\n";
    out += result.passed ? "--- PASS\n" : "--- FAIL\n";
    if (!result.stdout_data.empty() && !result.passed) {
      out += "stdout: " + result.stdout_data + (result.stdout_data.back() == '\n' ? "" : "\n");
    }
    if (!result.stderr_data.empty() && !result.passed) {
      out += "stderr: " + result.stderr_data + (result.stderr_data.back() == '\n' ? "" : "\n");
    }
    for (const auto& error : result.errors) {
      out += "Error: " + error + "\n";
    }
  }
  const size_t total = report.results.size();
  const size_t failed = report.failures();
  out += "\n=====================================\n";
  out += "============== RESULTS ==============\n";
  out += "=====================================\n";
  out += "Passes:      " + std::to_string(total - failed) + "\n";
  out += "Failures:    " + std::to_string(failed) + "\n";
  out += "Duration:    " + seconds_text(report.seconds) + "s\n";
  out += "Total tests: " + std::to_string(total) + "\n\n";
  if (total == 0) {
    out += "no test ran\n";
  }
  out += report.passed() ? "PASS\n" : "FAIL\n";
  return out;
}

std::string report_json(const TestReport& report) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& result : report.results) {
    nlohmann::json entry{{"Name", result.name},
                         {"Pass", result.passed},
                         {"Errors", result.errors},
                         {"Duration", result.seconds}};
    if (!result.stdout_data.empty()) {
      entry["Stdout"] = result.stdout_data;
    }
    if (!result.stderr_data.empty()) {
      entry["Stderr"] = result.stderr_data;
    }
    results.push_back(std::move(entry));
  }
  const size_t failed = report.failures();
  nlohmann::json out{{"Pass", report.results.size() - failed},
                     {"Fail", failed},
                     {"Total", report.results.size()},
                     {"Duration", report.seconds},
                     {"Results", results}};
  return out.dump(2) + "\n";
}

std::string report_junit(const TestReport& report) {
  const size_t failed = report.failures();
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites failures=\"" + std::to_string(failed) + "\" tests=\"" +
         std::to_string(report.results.size()) + "\" time=\"" + seconds_text(report.seconds) +
         "\">\n";
  out += "  <testsuite name=\"distill structure tests\" failures=\"" + std::to_string(failed) +
         "\" tests=\"" + std::to_string(report.results.size()) + "\" time=\"" +
         seconds_text(report.seconds) + "\">\n";
  for (const auto& result : report.results) {
    out += "    <testcase name=\"" + xml_escape(result.name) + "\" time=\"" +
           seconds_text(result.seconds) + "\"";
    if (result.passed) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    for (const auto& error : result.errors) {
      out += "      <failure message=\"" + xml_escape(error) + "\">" + xml_escape(error) +
             "</failure>\n";
    }
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace distill::check
