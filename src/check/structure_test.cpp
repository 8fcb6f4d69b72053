// Container-structure-test configs: YAML parsing (yaml-cpp, every throw caught
// here), running each test kind, and the text/json/junit reports. See
// structure_test.hpp for the supported schema.
#include "check/structure_test.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

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
    if (!node.IsDefined()) {
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
      if (kv.key.empty()) {
        error(item, where + ": missing key");
      }
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

void parse_config(Parser& p, const YAML::Node& root, StructureTestConfig& config) {
  p.check_keys(root,
               {"schemaVersion", "globalEnvVars", "commandTests", "fileExistenceTests",
                "fileContentTests", "metadataTest", "licenseTests", "containerRunOptions"},
               "config");
  if (!root.IsMap()) {
    return;
  }
  std::string version = p.string(root["schemaVersion"], "schemaVersion");
  if (version != "2.0.0") {
    p.error(root["schemaVersion"].IsDefined() ? root["schemaVersion"] : root,
            "schemaVersion: expected \"2.0.0\", found \"" + version + "\"");
  }
  config.global_env_vars = p.key_values(root["globalEnvVars"], "globalEnvVars");

  if (const YAML::Node list = root["fileExistenceTests"]; list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      p.error(list, "fileExistenceTests: expected a list");
    } else {
      for (const auto& item : list) {
        const std::string where = "fileExistenceTests";
        p.check_keys(item,
                     {"name", "path", "shouldExist", "permissions", "uid", "gid", "isExecutableBy"},
                     where);
        if (!item.IsMap()) {
          continue;
        }
        FileExistenceTest test;
        test.name = p.string(item["name"], where + ".name");
        test.path = p.string(item["path"], where + ".path");
        test.should_exist = p.boolean(item["shouldExist"], where + ".shouldExist", true);
        test.permissions = p.string(item["permissions"], where + ".permissions");
        test.uid = p.integer(item["uid"], where + ".uid", -1);
        test.gid = p.integer(item["gid"], where + ".gid", -1);
        test.executable_by = p.string(item["isExecutableBy"], where + ".isExecutableBy");
        if (!test.executable_by.empty() && test.executable_by != "owner" &&
            test.executable_by != "group" && test.executable_by != "other" &&
            test.executable_by != "any") {
          p.error(item["isExecutableBy"],
                  where + ".isExecutableBy: expected owner, group, other or any");
        }
        if (test.path.empty()) {
          p.error(item, where + ": missing path");
        }
        config.file_existence_tests.push_back(std::move(test));
      }
    }
  }
  if (const YAML::Node list = root["fileContentTests"]; list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      p.error(list, "fileContentTests: expected a list");
    } else {
      for (const auto& item : list) {
        const std::string where = "fileContentTests";
        p.check_keys(item, {"name", "path", "expectedContents", "excludedContents"}, where);
        if (!item.IsMap()) {
          continue;
        }
        FileContentTest test;
        test.name = p.string(item["name"], where + ".name");
        test.path = p.string(item["path"], where + ".path");
        test.expected_contents = p.strings(item["expectedContents"], where + ".expectedContents");
        test.excluded_contents = p.strings(item["excludedContents"], where + ".excludedContents");
        if (test.path.empty()) {
          p.error(item, where + ": missing path");
        }
        config.file_content_tests.push_back(std::move(test));
      }
    }
  }
  if (const YAML::Node node = root["metadataTest"]; node.IsDefined() && !node.IsNull()) {
    const std::string where = "metadataTest";
    p.check_keys(node,
                 {"envVars", "unboundEnvVars", "labels", "exposedPorts", "unexposedPorts",
                  "volumes", "unmountedVolumes", "entrypoint", "cmd", "workdir", "user"},
                 where);
    if (node.IsMap()) {
      MetadataTest& test = config.metadata_test;
      test.present = true;
      test.env_vars = p.key_values(node["envVars"], where + ".envVars");
      test.unbound_env_vars = p.keys(node["unboundEnvVars"], where + ".unboundEnvVars");
      test.labels = p.key_values(node["labels"], where + ".labels");
      test.exposed_ports = p.strings(node["exposedPorts"], where + ".exposedPorts");
      test.unexposed_ports = p.strings(node["unexposedPorts"], where + ".unexposedPorts");
      test.volumes = p.strings(node["volumes"], where + ".volumes");
      test.unmounted_volumes = p.strings(node["unmountedVolumes"], where + ".unmountedVolumes");
      test.entrypoint = p.optional_strings(node["entrypoint"], where + ".entrypoint");
      test.cmd = p.optional_strings(node["cmd"], where + ".cmd");
      if (node["workdir"].IsDefined()) {
        test.workdir = p.string(node["workdir"], where + ".workdir");
      }
      if (node["user"].IsDefined()) {
        test.user = p.string(node["user"], where + ".user");
      }
    }
  }
  if (const YAML::Node list = root["licenseTests"]; list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      p.error(list, "licenseTests: expected a list");
    } else {
      for (const auto& item : list) {
        p.check_keys(item, {"debian", "files"}, "licenseTests");
        if (!item.IsMap()) {
          continue;
        }
        LicenseTest test;
        test.debian = p.boolean(item["debian"], "licenseTests.debian", false);
        test.files = p.strings(item["files"], "licenseTests.files");
        config.license_tests.push_back(std::move(test));
      }
    }
  }
  if (const YAML::Node list = root["commandTests"]; list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      p.error(list, "commandTests: expected a list");
    } else {
      for (const auto& item : list) {
        const std::string where = "commandTests";
        p.check_keys(item,
                     {"name", "setup", "teardown", "envVars", "command", "args", "expectedOutput",
                      "excludedOutput", "expectedError", "excludedError", "exitCode"},
                     where);
        if (!item.IsMap()) {
          continue;
        }
        CommandTest test;
        test.name = p.string(item["name"], where + ".name");
        test.setup = p.commands(item["setup"], where + ".setup");
        test.teardown = p.commands(item["teardown"], where + ".teardown");
        test.env_vars = p.key_values(item["envVars"], where + ".envVars");
        test.command = p.string(item["command"], where + ".command");
        test.args = p.strings(item["args"], where + ".args");
        test.expected_output = p.strings(item["expectedOutput"], where + ".expectedOutput");
        test.excluded_output = p.strings(item["excludedOutput"], where + ".excludedOutput");
        test.expected_error = p.strings(item["expectedError"], where + ".expectedError");
        test.excluded_error = p.strings(item["excludedError"], where + ".excludedError");
        test.exit_code = static_cast<int>(p.integer(item["exitCode"], where + ".exitCode", 0));
        if (test.command.empty()) {
          p.error(item, where + ": missing command");
        }
        config.command_tests.push_back(std::move(test));
      }
    }
  }
  if (const YAML::Node node = root["containerRunOptions"]; node.IsDefined() && !node.IsNull()) {
    p.check_keys(
        node,
        {"user", "privileged", "allocateTty", "envFile", "envVars", "capabilities", "bindMounts"},
        "containerRunOptions");
    if (node.IsMap()) {
      config.run_user = p.string(node["user"], "containerRunOptions.user");
      for (const auto& name : p.strings(node["envVars"], "containerRunOptions.envVars")) {
        config.global_env_vars.push_back({name, "", true});  // passed through, see env_list
      }
    }
  }
}

// ---- regular expressions (Go RE2 syntax, mostly ECMAScript-compatible) -----

struct Pattern {
  std::regex regex;
};

Result<Pattern> compile(const std::string& pattern) {
  std::string body = pattern;
  auto flags = std::regex::ECMAScript;
  bool dot_all = false;
  // Leading inline flags: (?i) (?m) (?s) and combinations.
  if (body.rfind("(?", 0) == 0) {
    size_t close = body.find(')');
    std::string letters = close == std::string::npos ? "" : body.substr(2, close - 2);
    if (!letters.empty() && letters.find_first_not_of("ims") == std::string::npos) {
      for (char c : letters) {
        if (c == 'i') {
          flags |= std::regex::icase;
        } else if (c == 'm') {
          flags |= std::regex::multiline;
        } else {
          dot_all = true;
        }
      }
      body = body.substr(close + 1);
    }
  }
  if (dot_all) {
    std::string converted;
    bool escaped = false;
    bool in_class = false;
    for (char c : body) {
      if (escaped) {
        converted += c;
        escaped = false;
      } else if (c == '\\') {
        converted += c;
        escaped = true;
      } else if (c == '[') {
        in_class = true;
        converted += c;
      } else if (c == ']') {
        in_class = false;
        converted += c;
      } else if (c == '.' && !in_class) {
        converted += "[\\s\\S]";
      } else {
        converted += c;
      }
    }
    body = converted;
  }
  try {
    return Pattern{std::regex(body, flags)};
  } catch (const std::regex_error& e) {
    return make_error(ErrorKind::InvalidInput,
                      "invalid regular expression \"" + pattern + "\": " + e.what());
  }
}

// Quotes `text` for a message, shortened to keep one line readable.
std::string show(const std::string& text) {
  constexpr size_t k_limit = 400;
  std::string shown = text.size() > k_limit ? text.substr(0, k_limit) + "..." : text;
  return nlohmann::json(shown).dump();
}

void check_regexes(const std::vector<std::string>& expected,
                   const std::vector<std::string>& excluded, const std::string& text,
                   const std::string& what, std::vector<std::string>& errors) {
  for (const auto& pattern : expected) {
    auto compiled = compile(pattern);
    if (!compiled.ok()) {
      errors.push_back(compiled.error().message);
      continue;
    }
    if (!std::regex_search(text, compiled->regex)) {
      errors.push_back("expected " + what + " to match " + show(pattern) + ", found " + show(text));
    }
  }
  for (const auto& pattern : excluded) {
    auto compiled = compile(pattern);
    if (!compiled.ok()) {
      errors.push_back(compiled.error().message);
      continue;
    }
    std::smatch match;
    if (std::regex_search(text, match, compiled->regex)) {
      errors.push_back("expected " + what + " not to match " + show(pattern) + ", found " +
                       show(match.str()) + " in " + show(text));
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

TestResult file_existence(const FileExistenceTest& test, const ImageView& view) {
  TestResult result;
  result.name = "File Existence Test: " + (test.name.empty() ? test.path : test.name);
  std::string path = test.path;
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
      result.errors.push_back("expected " + test.path + " not to exist, found " +
                              go_file_mode(*info) + " " + std::to_string(info->uid) + ":" +
                              std::to_string(info->gid));
    }
    result.passed = result.errors.empty();
    return result;
  }
  if (info == nullptr) {
    result.errors.push_back("expected " + test.path + " to exist, found nothing");
    result.passed = false;
    return result;
  }
  std::string mode = go_file_mode(*info);
  if (!test.permissions.empty() && mode != test.permissions) {
    result.errors.push_back(test.path + ": expected permissions " + test.permissions + ", found " +
                            mode);
  }
  if (test.uid >= 0 && info->uid != static_cast<uint64_t>(test.uid)) {
    result.errors.push_back(test.path + ": expected uid " + std::to_string(test.uid) + ", found " +
                            std::to_string(info->uid));
  }
  if (test.gid >= 0 && info->gid != static_cast<uint64_t>(test.gid)) {
    result.errors.push_back(test.path + ": expected gid " + std::to_string(test.gid) + ", found " +
                            std::to_string(info->gid));
  }
  if (!test.executable_by.empty()) {
    uint32_t bits = test.executable_by == "owner"   ? 0100
                    : test.executable_by == "group" ? 0010
                    : test.executable_by == "other" ? 0001
                                                    : 0111;
    if ((info->mode & bits) == 0) {
      result.errors.push_back(test.path + ": expected to be executable by " + test.executable_by +
                              ", found permissions " + mode);
    }
  }
  result.passed = result.errors.empty();
  return result;
}

TestResult file_content(const FileContentTest& test, const ImageView& view) {
  TestResult result;
  result.name = "File Content Test: " + (test.name.empty() ? test.path : test.name);
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

std::map<std::string, std::string> env_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& entry : env) {
    size_t eq = entry.find('=');
    out[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  return out;
}

bool value_matches(const KeyValue& kv, const std::string& actual,
                   std::vector<std::string>& errors) {
  if (!kv.is_regex) {
    return kv.value == actual;
  }
  auto compiled = compile(kv.value);
  if (!compiled.ok()) {
    errors.push_back(compiled.error().message);
    return true;
  }
  return std::regex_search(actual, compiled->regex);
}

std::string list_text(const std::vector<std::string>& list) { return nlohmann::json(list).dump(); }

bool has_port(const std::vector<std::string>& ports, const std::string& port) {
  for (const auto& have : ports) {
    if (have == port || have == port + "/tcp" ||
        (port.find('/') == std::string::npos && have.rfind(port + "/", 0) == 0)) {
      return true;
    }
  }
  return false;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

TestResult metadata(const MetadataTest& test, const oci::ImageConfig& config) {
  TestResult result;
  result.name = "Metadata Test";
  auto& errors = result.errors;
  auto env = env_map(config.env);
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
  for (const auto& port : test.exposed_ports) {
    if (!has_port(config.exposed_ports, port)) {
      errors.push_back("expected port " + port + " to be exposed, found " +
                       list_text(config.exposed_ports));
    }
  }
  for (const auto& port : test.unexposed_ports) {
    if (has_port(config.exposed_ports, port)) {
      errors.push_back("expected port " + port + " not to be exposed, found " +
                       list_text(config.exposed_ports));
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
  const std::vector<std::string> no_list;
  if (test.entrypoint) {
    const auto& have = config.entrypoint ? *config.entrypoint : no_list;
    if (have != *test.entrypoint) {
      errors.push_back("expected entrypoint " + list_text(*test.entrypoint) + ", found " +
                       list_text(have));
    }
  }
  if (test.cmd) {
    const auto& have = config.cmd ? *config.cmd : no_list;
    if (have != *test.cmd) {
      errors.push_back("expected cmd " + list_text(*test.cmd) + ", found " + list_text(have));
    }
  }
  if (test.workdir && *test.workdir != config.working_dir) {
    errors.push_back("expected workdir " + show(*test.workdir) + ", found " +
                     show(config.working_dir));
  }
  if (test.user && *test.user != config.user) {
    errors.push_back("expected user " + show(*test.user) + ", found " + show(config.user));
  }
  result.passed = errors.empty();
  return result;
}

TestResult license(const LicenseTest& test, const ImageView& view) {
  TestResult result;
  result.name = "License Test";
  std::vector<std::string> paths;
  if (test.debian) {
    for (const auto& dir : view.list_dir("/usr/share/doc")) {
      const std::string path = "/usr/share/doc/" + dir + "/copyright";
      if (const FileInfo* info = view.stat(path); info != nullptr && info->is_regular()) {
        paths.push_back(path);
      }
    }
  }
  paths.insert(paths.end(), test.files.begin(), test.files.end());
  auto contents = view.read_files(paths);
  if (!contents.ok()) {
    result.errors.push_back("expected readable copyright files, found: " +
                            contents.error().message);
  } else {
    for (const auto& path : test.files) {
      if (contents->count(path) == 0) {
        result.errors.push_back("expected license file " + path + " to exist, found nothing");
      }
    }
    for (const auto& [path, text] : *contents) {
      for (const char* banned : {"AGPL", "WTFPL"}) {
        if (text.find(banned) != std::string::npos) {
          result.errors.push_back("expected no " + std::string(banned) + " license, found " +
                                  banned + " in " + path);
        }
      }
    }
  }
  result.passed = result.errors.empty();
  return result;
}

std::vector<std::string> env_list(const std::vector<KeyValue>& global,
                                  const std::vector<KeyValue>& local) {
  std::vector<std::string> out;
  for (const auto* list : {&global, &local}) {
    for (const auto& kv : *list) {
      // A bare name (containerRunOptions.envVars) is taken from distill's environment.
      out.push_back(kv.is_regex && kv.value.empty() ? kv.key : kv.key + "=" + kv.value);
    }
  }
  return out;
}

std::string argv_text(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    out += (out.empty() ? "" : " ") + arg;
  }
  return out;
}

TestResult command(const CommandTest& test, const StructureTestConfig& config,
                   CommandExecutor* executor) {
  TestResult result;
  result.name = "Command Test: " + (test.name.empty() ? test.command : test.name);
  auto& errors = result.errors;
  if (executor == nullptr) {
    errors.push_back("expected to run " + test.command + ", found no way to run containers");
    result.passed = false;
    return result;
  }
  std::vector<std::string> env = env_list(config.global_env_vars, test.env_vars);
  auto run = [&](const std::vector<std::string>& argv, const std::string& stage) -> bool {
    auto outcome = executor->exec({argv, env, config.run_user});
    if (!outcome.ok()) {
      errors.push_back(stage + " " + show(argv_text(argv)) +
                       ": expected to run, found: " + outcome.error().message);
      return false;
    }
    if (outcome->exit_code != 0) {
      errors.push_back(stage + " " + show(argv_text(argv)) + ": expected exit code 0, found " +
                       std::to_string(outcome->exit_code) + " (stderr " +
                       show(outcome->stderr_data) + ")");
      return false;
    }
    return true;
  };
  Status reset = executor->reset();
  if (!reset.ok()) {
    errors.push_back("expected a fresh container, found: " + reset.error().message);
  }
  bool ready = reset.ok();
  for (const auto& argv : test.setup) {
    if (ready && !argv.empty()) {
      ready = run(argv, "setup command");
    }
  }
  if (ready) {
    std::vector<std::string> argv{test.command};
    argv.insert(argv.end(), test.args.begin(), test.args.end());
    auto outcome = executor->exec({argv, env, config.run_user});
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
    for (const auto& teardown : test.teardown) {
      if (!teardown.empty()) {
        run(teardown, "teardown command");
      }
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

TestReport run_structure_tests(const StructureTestConfig& config, const ImageView& view,
                               const oci::ImageConfig& image_config, CommandExecutor* executor) {
  TestReport report;
  const auto start = Clock::now();
  auto timed = [&](const std::function<TestResult()>& fn) {
    const auto begin = Clock::now();
    TestResult result = fn();
    result.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    report.results.push_back(std::move(result));
  };
  for (const auto& test : config.command_tests) {
    timed([&] { return command(test, config, executor); });
  }
  for (const auto& test : config.file_existence_tests) {
    timed([&] { return file_existence(test, view); });
  }
  for (const auto& test : config.file_content_tests) {
    timed([&] { return file_content(test, view); });
  }
  if (config.metadata_test.present) {
    timed([&] { return metadata(config.metadata_test, image_config); });
  }
  for (const auto& test : config.license_tests) {
    timed([&] { return license(test, view); });
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
  out += failed == 0 ? "PASS\n" : "FAIL\n";
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
